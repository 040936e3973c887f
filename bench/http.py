#!/usr/bin/python3
"""What Streamable HTTP costs against stdio, the same server binary, the
same machine, in one run:

  hello world   median py_run_script_in_dir round trip over HTTP (2026-07-28,
                one keep-alive connection) against the same call over stdio,
                the two interleaved so that machine noise hits both
  requests/s    server/discover and tools/list with 64 connections each
                keeping one request in flight, against stdio with 64
                requests in flight (the server's own ceiling without HTTP)
  session RSS   VmRSS of the server after 1,000 legacy sessions were made
                (initialize + notifications/initialized, then idle),
                against its VmRSS before them

Not a test: it asserts nothing and prints ratios to baselines measured in
the same run.

Usage: bench/http.py [--build DIR] [--runs N] [--requests N] [--sessions N]
"""
import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "server"))
sys.path.insert(0, os.path.join(ROOT, "tests", "http"))
from http_client import META, MODERN, Server as HttpServer, read_response  # noqa: E402
from mcp_client import Server as StdioServer, proc_status_kb  # noqa: E402

WIDTH = 64


def hello_http(s, conn, i):
    body = {"jsonrpc": "2.0", "id": i, "method": "tools/call", "params": {
        "name": "py_run_script_in_dir", "_meta": META,
        "arguments": {"directory": s.ws, "script_content": "print('hello')"}}}
    t = time.perf_counter()
    s.send(conn, body=body, headers={"MCP-Protocol-Version": MODERN, "Mcp-Method": "tools/call",
                                     "Mcp-Name": "py_run_script_in_dir"})
    r = read_response(conn)
    dt = time.perf_counter() - t
    assert r.message()["result"]["structuredContent"]["stdout"] == "hello\n", r.body
    return dt


def hello_stdio(s, ws):
    t = time.perf_counter()
    r = s.call("py_run_script_in_dir", {"directory": ws, "script_content": "print('hello')"})
    dt = time.perf_counter() - t
    assert r["stdout"] == "hello\n", r
    return dt


async def http_rps(port, method, total):
    """total requests over WIDTH keep-alive connections, one in flight each."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method,
                       "params": {"_meta": META}}).encode()
    head = (f"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
            f"Accept: application/json, text/event-stream\r\nMCP-Protocol-Version: {MODERN}\r\n"
            f"Mcp-Method: {method}\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body
    per = total // WIDTH

    async def worker():
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for _ in range(per):
            writer.write(head)
            hdr = await reader.readuntil(b"\r\n\r\n")
            n = int(hdr.split(b"Content-Length: ")[1].split(b"\r\n")[0])
            await reader.readexactly(n)
        writer.close()
    t = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(WIDTH)))
    return per * WIDTH / (time.perf_counter() - t)


def stdio_rps(s, method, total):
    """total requests over stdio with WIDTH in flight."""
    params = {"_meta": META}
    t = time.perf_counter()
    inflight = []
    done = 0
    while done < total:
        while len(inflight) < WIDTH and done + len(inflight) < total:
            inflight.append(s.send_request(method, params))
        s.wait_response(inflight.pop(0))
        done += 1
    return total / (time.perf_counter() - t)


def sessions_rss(binary, n):
    s = HttpServer(binary, ["--http-max-sessions", str(n + 10)])
    try:
        before = proc_status_kb(s.proc.pid, "VmRSS")
        for i in range(n):
            with s.connect() as c:
                s.send(c, body={"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
                    "protocolVersion": "2025-11-25", "capabilities": {},
                    "clientInfo": {"name": "bench", "version": "1"}}})
                r = read_response(c)
                sid = r.headers["mcp-session-id"]
                s.send(c, body={"jsonrpc": "2.0", "method": "notifications/initialized"},
                       headers={"Mcp-Session-Id": sid})
                read_response(c)
        time.sleep(1)
        after = proc_status_kb(s.proc.pid, "VmRSS")
        peak = proc_status_kb(s.proc.pid, "VmHWM")
        return before, after, peak
    finally:
        s.stop()
        s.cleanup()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--requests", type=int, default=6400)
    ap.add_argument("--sessions", type=int, default=1000)
    a = ap.parse_args()
    binary = os.path.join(a.build, "src", "python-mcp")

    http = HttpServer(binary)
    state = tempfile.mkdtemp(prefix="pymcp-bench-")
    stdio = StdioServer(binary, os.path.join(state, "state"), roots=[http.ws])
    stdio.start()
    try:
        conn = http.connect()
        for i in range(3):  # warm both: launcher pools, caches
            hello_http(http, conn, i)
            hello_stdio(stdio, http.ws)
        h, s = [], []
        for i in range(a.runs):
            h.append(hello_http(http, conn, 100 + i))
            s.append(hello_stdio(stdio, http.ws))
        conn.close()
        mh, ms_ = statistics.median(h), statistics.median(s)
        print(f"hello world   HTTP {mh * 1000:7.2f} ms   stdio {ms_ * 1000:7.2f} ms   "
              f"ratio {mh / ms_:.3f}x  (median of {a.runs}, interleaved)")
        for method in ("server/discover", "tools/list"):
            hr = asyncio.run(http_rps(http.port, method, a.requests))
            sr = stdio_rps(stdio, method, a.requests)
            print(f"{method:16s} HTTP {hr:8.0f} req/s ({WIDTH} connections)   stdio {sr:8.0f} "
                  f"req/s ({WIDTH} in flight)   ratio {hr / sr:.3f}x")
    finally:
        stdio.stop()
        http.stop()
        http.cleanup()
    before, after, peak = sessions_rss(binary, a.sessions)
    print(f"sessions      VmRSS {before / 1024:.1f} MiB idle, {after / 1024:.1f} MiB with "
          f"{a.sessions} legacy sessions (peak {peak / 1024:.1f} MiB): "
          f"{(after - before) * 1024 / a.sessions:.0f} bytes a session")


if __name__ == "__main__":
    main()
