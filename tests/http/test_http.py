#!/usr/bin/python3
"""Streamable HTTP end to end: the real server over real sockets, with the
real launcher behind it.  One case per run:

    test_http.py --server BIN CASE

Each case says what it checks; every check that could pass by accident has
a control beside it (the same request done right)."""
import json
import os
import re
import signal
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from http_client import META, MODERN, Fail, Server, check, read_response, run_case  # noqa: E402

CASES = {}


def case(fn):
    CASES[fn.__name__] = fn
    return fn


def error_code(resp):
    return resp.message().get("error", {}).get("code")


def ticks(path):
    try:
        return os.path.getsize(path)
    except FileNotFoundError:
        return 0


# Writes one byte a tick into the workspace: while the file grows, the
# script (and so its sandbox) is alive.
TICKER = ("import time, sys\nwith open('ticks', 'ab', buffering=0) as f:\n"
          "    for _ in range(600):\n        f.write(b'.')\n        time.sleep(0.05)\n")


@case
def modern_basics(binary):
    s = Server(binary)
    try:
        r = s.modern(1, "server/discover")
        check(r.status == 200 and r.headers["content-type"] == "application/json",
              "server/discover answers JSON", r.headers)
        res = r.json()["result"]
        check(MODERN in res["supportedVersions"] and res["resultType"] == "complete"
              and res["cacheScope"] == "public" and isinstance(res["ttlMs"], int),
              "discover result", res)
        r = s.call(2, "py_run_script_in_dir", {"directory": s.ws, "script_content": "print(6*7)"})
        out = r.message()["result"]
        check(r.status == 200 and out["structuredContent"]["stdout"] == "42\n"
              and out["resultType"] == "complete", "hello world over HTTP", out)
        # A notification is accepted with no body.
        r = s.request(body={"jsonrpc": "2.0", "method": "notifications/cancelled",
                            "params": {"requestId": 99, "_meta": META}},
                      headers={"MCP-Protocol-Version": MODERN,
                               "Mcp-Method": "notifications/cancelled"})
        check(r.status == 202 and r.body == b"", "notification: 202, no body", (r.status, r.body))
        # No GET or DELETE without a legacy session; other methods and paths.
        for method in ("GET", "DELETE"):
            r = s.request(method, headers={"MCP-Protocol-Version": MODERN})
            check(r.status == 405 and "POST" in r.headers.get("allow", ""), f"{method}: 405",
                  (r.status, r.body))
            check(r.json()["error"]["code"] == -32000, f"{method}: JSON-RPC body", r.body)
        r = s.request("PUT", body=b"{}")
        check(r.status == 405 and r.json()["error"], "PUT: 405 with a JSON-RPC body", r.body)
        r = s.request(body={"jsonrpc": "2.0", "id": 1, "method": "server/discover"}, path="/other")
        check(r.status == 404 and r.json()["error"], "another path: 404 JSON", r.body)
        # Keep-alive: two requests on one connection.
        with s.connect() as c:
            for i in range(2):
                s.send(c, body={"jsonrpc": "2.0", "id": i, "method": "tools/list",
                                "params": {"_meta": META}},
                       headers={"MCP-Protocol-Version": MODERN, "Mcp-Method": "tools/list"})
                r = read_response(c)
                check(r.status == 200 and r.json()["id"] == i, "keep-alive request", r.status)
    finally:
        s.stop()
        s.cleanup()


@case
def modern_headers(binary):
    """MCP-2026.md §3: each header mirrors the body, in the order given."""
    s = Server(binary)
    body = {"jsonrpc": "2.0", "id": 5, "method": "tools/call",
            "params": {"name": "py_list_jobs", "arguments": {}, "_meta": META}}
    right = {"MCP-Protocol-Version": MODERN, "Mcp-Method": "tools/call", "Mcp-Name": "py_list_jobs"}
    try:
        r = s.request(body=body, headers=right)
        check(r.status == 200 and error_code(r) is None, "control: right headers", r.body)
        r = s.request(body=body, headers=dict(right, **{"Mcp-Name": " py_list_jobs\t"}))
        check(r.status == 200, "header values are trimmed", r.body)
        r = s.request(body=body, headers=dict(right, **{"Mcp-Name": "=?base64?cHlfbGlzdF9qb2Jz?="}))
        check(r.status == 200, "a base64 Mcp-Name is decoded", r.body)
        for name, value in (("Mcp-Method", None), ("Mcp-Method", "tools/list"),
                            ("Mcp-Name", None), ("Mcp-Name", "PY_LIST_JOBS"),
                            ("MCP-Protocol-Version", None)):
            r = s.request(body=body, headers=dict(right, **{name: value}))
            check(r.status == 400 and error_code(r) == -32020 and r.json()["id"] == 5,
                  f"{name}={value!r}: 400, -32020, the body's id", (r.status, r.body))
        v999 = dict(body, params=dict(body["params"], _meta=dict(
            META, **{"io.modelcontextprotocol/protocolVersion": "v999"})))
        r = s.request(body=v999, headers=right)
        check(r.status == 400 and error_code(r) == -32020, "v999 body, modern header: -32020", r.body)
        r = s.request(body=v999, headers=dict(right, **{"MCP-Protocol-Version": "v999"}))
        check(r.status == 400 and error_code(r) == -32022
              and r.json()["error"]["data"]["requested"] == "v999"
              and MODERN in r.json()["error"]["data"]["supported"], "v999 both: -32022", r.body)
        r = s.request(body={"jsonrpc": "2.0", "id": 6, "method": "tools/list"},
                      headers={"MCP-Protocol-Version": MODERN, "Mcp-Method": "tools/list"})
        check(r.status == 400 and error_code(r) == -32602, "no _meta: 400, -32602", r.body)
        r = s.modern(7, "ping")
        check(r.status == 404 and error_code(r) == -32601, "removed method: 404", r.body)
        r = s.modern(8, "initialize")
        check(r.status == 404 and error_code(r) == -32601, "initialize with _meta: 404", r.body)
        r = s.request(body=b"{not json", headers=right)
        check(r.status == 400 and error_code(r) == -32700, "parse error: 400", r.body)
        r = s.request(body=b"", headers=right)
        check(r.status == 400 and error_code(r) == -32700, "empty body: 400", r.body)
        r = s.request(body=body, headers=dict(right, **{"Content-Type": "text/plain"}))
        check(r.status == 415 and r.json()["error"], "wrong content type: 415", r.body)
        r = s.request(body=body, headers=dict(right, Accept="text/html"))
        check(r.status == 406 and r.json()["error"], "unacceptable Accept: 406", r.body)
    finally:
        s.stop()
        s.cleanup()


def initialize(s, version="2025-11-25"):
    r = s.request(body={"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": version, "capabilities": {},
        "clientInfo": {"name": "t", "version": "1"}}})
    check(r.status == 200 and r.json()["result"]["protocolVersion"] == version, "initialize", r.body)
    sid = r.headers.get("mcp-session-id", "")
    check(re.fullmatch(r"[0-9a-f]{64}", sid), "a 256-bit session id", sid)
    r = s.request(body={"jsonrpc": "2.0", "method": "notifications/initialized"},
                  headers={"Mcp-Session-Id": sid})
    check(r.status == 202, "notifications/initialized: 202", r.status)
    return sid


@case
def legacy_sessions(binary):
    s = Server(binary, ["--http-max-sessions", "3"])
    try:
        sid = initialize(s)
        other = initialize(s, "2025-06-18")
        check(sid != other, "each session its own id")
        h = {"Mcp-Session-Id": sid, "MCP-Protocol-Version": "2025-11-25"}
        r = s.request(body={"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {
            "name": "py_run_script_in_dir",
            "arguments": {"directory": s.ws, "script_content": "print(6*7)"}}}, headers=h)
        res = r.message()["result"]
        check(r.status == 200 and res["structuredContent"]["stdout"] == "42\n"
              and "resultType" not in res, "a legacy call in its session", res)
        r = s.request(body={"jsonrpc": "2.0", "id": 3, "method": "tools/list"})
        check(r.status == 400 and "Mcp-Session-Id" in r.json()["error"]["message"],
              "no session header: 400", r.body)
        r = s.request(body={"jsonrpc": "2.0", "id": 3, "method": "tools/list"},
                      headers={"Mcp-Session-Id": "0" * 64})
        check(r.status == 404 and r.json()["error"]["code"] == -32001, "unknown session: 404", r.body)
        r = s.request(body={"jsonrpc": "2.0", "id": 3, "method": "tools/list"},
                      headers=dict(h, **{"MCP-Protocol-Version": "1999-01-01"}))
        check(r.status == 400, "an unknown MCP-Protocol-Version: 400", r.body)
        r = s.request(body={"jsonrpc": "2.0", "id": 3, "method": "tools/list"},
                      headers=dict(h, **{"MCP-Protocol-Version": "2025-03-26"}))
        check(r.status == 200, "an older legacy version in a session: served", r.body)
        # The GET stream: open at once, one per session.
        g = s.connect()
        s.send(g, "GET", headers={"Mcp-Session-Id": sid, "Accept": "text/event-stream"})
        g.settimeout(10)
        head = g.recv(4096)
        check(head.startswith(b"HTTP/1.1 200") and b"text/event-stream" in head,
              "GET opens an SSE stream", head)
        r = s.request("GET", headers={"Mcp-Session-Id": sid, "Accept": "text/event-stream"})
        check(r.status == 409, "a second GET stream: 409", r.body)
        r = s.request("DELETE", headers={"Mcp-Session-Id": sid})
        check(r.status == 204, "DELETE ends the session", r.status)
        rest = b""
        while True:  # the stream ends with the session
            chunk = g.recv(4096)
            if not chunk:
                break
            rest += chunk
        g.close()
        r = s.request(body={"jsonrpc": "2.0", "id": 4, "method": "tools/list"}, headers=h)
        check(r.status == 404, "a deleted session is gone", r.body)
        # The cap (sid was deleted: other and two more fill it).
        initialize(s)
        initialize(s)
        r = s.request(body={"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {},
            "clientInfo": {"name": "t", "version": "1"}}})
        check(r.status == 503 and "--http-max-sessions" in r.json()["error"]["message"],
              "past --http-max-sessions: 503", r.body)
    finally:
        s.stop()
        s.cleanup()
    # Idle expiry, on a server whose sessions idle out after 1 s.
    s = Server(binary, ["--http-session-idle", "1"])
    try:
        sid = initialize(s)
        h = {"Mcp-Session-Id": sid}
        r = s.request(body={"jsonrpc": "2.0", "id": 2, "method": "tools/list"}, headers=h)
        check(r.status == 200, "control: the session answers", r.body)
        time.sleep(12)  # sessions are swept every 10 s
        r = s.request(body={"jsonrpc": "2.0", "id": 3, "method": "tools/list"}, headers=h)
        check(r.status == 404, "an idle session ends", r.body)
    finally:
        s.stop()
        s.cleanup()


@case
def dns_rebinding(binary):
    s = Server(binary, ["--http-allow-host", "mcp.example.org",
                        "--http-allow-origin", "https://app.example.org"])
    body = {"jsonrpc": "2.0", "id": 1, "method": "server/discover", "params": {"_meta": META}}
    h = {"MCP-Protocol-Version": MODERN, "Mcp-Method": "server/discover"}
    try:
        for host, origin, want in (
                (f"127.0.0.1:{s.port}", None, 200), ("localhost", None, 200),
                (f"[::1]:{s.port}", None, 200), ("mcp.example.org", None, 200),
                (f"localhost:{s.port}", f"http://localhost:{s.port}", 200),
                ("localhost", "https://app.example.org", 200),
                ("localhost", "http://127.0.0.1", 200),
                ("evil.example.com", None, 403), ("evil.example.com", "http://evil.example.com", 403),
                ("localhost", "http://evil.example.com", 403),
                ("localhost", "http://localhost.evil.example.com", 403),
                ("localhost", "null", 403), ("localhost@evil.example.com", None, 403)):
            r = s.request(body=body, headers=dict(h, Host=host, Origin=origin))
            check(r.status == want, f"Host {host}, Origin {origin}: {want}", (r.status, r.body))
            if want == 403:
                check(r.json()["error"]["code"] == -32600 and "Hint" in r.json()["error"]["message"],
                      "403 carries a JSON-RPC error with a hint", r.body)
    finally:
        s.stop()
        s.cleanup()
    # Not on loopback and without authentication: refused, unless
    # --allow-unauthenticated says so, and then said loudly at start.
    import subprocess
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        argv = [binary, "--transport", "http", "--listen", "0.0.0.0:0",
                "--state-dir", os.path.join(tmp, "state")]
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=60)
        check(p.returncode == 1 and "refusing to serve MCP on 0.0.0.0" in p.stderr
              and "--allow-unauthenticated" in p.stderr,
              "a non-loopback address without authentication is refused, saying how", p.stderr)
        p = subprocess.Popen(argv + ["--allow-unauthenticated"],
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
        log = ""
        deadline = time.time() + 20
        while "serving MCP over HTTP" not in log and time.time() < deadline:
            log += p.stderr.readline()
        p.terminate()
        p.wait(20)
        check("WITHOUT AUTHENTICATION" in log and "any Host header is accepted" in log,
              "with --allow-unauthenticated, listening beyond loopback warns", log)


@case
def limits(binary):
    s = Server(binary, ["--max-request-bytes", "65536", "--http-max-connections", "4",
                        "--http-max-inflight", "2", "--http-request-timeout", "2"])
    h = {"MCP-Protocol-Version": MODERN, "Mcp-Method": "tools/list"}
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {"_meta": META}}
    try:
        big = json.dumps(dict(body, params=dict(body["params"], pad="x" * 70000))).encode()
        r = s.request(body=big, headers=h)
        check(r.status == 413 and r.json()["error"]["code"] == -32600
              and "--max-request-bytes" in r.json()["error"]["message"], "body too large: 413",
              (r.status, r.body[:300]))
        r = s.request(body=body, headers=dict(h, **{"X-Pad": "p" * 8300}))
        check(r.status == 431 and r.json()["error"], "headers too large: 431", (r.status, r.body))
        # Slow clients: half a request holds no more than its connection,
        # and not past the request timeout.
        slow = s.connect()
        slow.sendall(b"POST /mcp HTTP/1.1\r\nHost: localhost\r\nContent-Len")
        r = s.request(body=body, headers=h)
        check(r.status == 200, "served beside a slow client", r.status)
        slow.settimeout(10)
        t0 = time.time()
        ended = slow.recv(4096)
        check(time.time() - t0 < 8, "the slow client is cut at the request timeout", ended)
        slow.close()
        # Requests in flight: two long calls fill the cap.
        waiting = []
        for i in range(2):
            c = s.connect()
            s.send(c, body={"jsonrpc": "2.0", "id": 10 + i, "method": "tools/call", "params": {
                "name": "py_run_script_in_dir", "_meta": META,
                "arguments": {"directory": s.ws, "script_content": "import time; time.sleep(4)"}}},
                headers={"MCP-Protocol-Version": MODERN, "Mcp-Method": "tools/call",
                         "Mcp-Name": "py_run_script_in_dir"})
            waiting.append(c)
        time.sleep(0.5)
        r = s.request(body=body, headers=h)
        check(r.status == 503 and "--http-max-inflight" in r.json()["error"]["message"]
              and r.headers.get("retry-after"), "past --http-max-inflight: 503", r.body)
        for c in waiting:
            r = read_response(c)
            check(r.status == 200, "the calls in flight still answer", r.body)
            c.close()
        time.sleep(0.5)  # the server sees those closes
        # Connections: the cap answers 503 and closes; the others still work.
        held = [s.connect() for _ in range(4)]
        time.sleep(0.3)
        extra = s.connect()
        r = read_response(extra)
        check(r.status == 503 and "--http-max-connections" in r.json()["error"]["message"],
              "past --http-max-connections: 503", r.body)
        extra.close()
        s.send(held[0], body=body, headers=h)
        check(read_response(held[0]).status == 200, "a held connection still serves")
        for c in held:
            c.close()
        time.sleep(0.5)
        check(s.request(body=body, headers=h).status == 200, "room again once they close")
    finally:
        s.stop()
        s.cleanup()


@case
def cancel_on_close(binary):
    """2026-07-28: closing the response stream cancels the request; a job
    already handed back goes on.  A legacy client's close cancels nothing."""
    s = Server(binary, env={"SMART_ASYNC_TIMEOUT_SECONDS": "3"})
    try:
        def start(sub, legacy_sid=None):
            os.makedirs(os.path.join(s.ws, sub), exist_ok=True)
            c = s.connect()
            params = {"name": "py_run_script_in_dir",
                      "arguments": {"directory": os.path.join(s.ws, sub), "script_content": TICKER}}
            if legacy_sid:
                s.send(c, body={"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params},
                       headers={"Mcp-Session-Id": legacy_sid})
            else:
                params["_meta"] = META
                s.send(c, body={"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params},
                       headers={"MCP-Protocol-Version": MODERN, "Mcp-Method": "tools/call",
                                "Mcp-Name": "py_run_script_in_dir"})
            return c, os.path.join(s.ws, sub, "ticks")

        def growing(path, seconds=1.0):
            a = ticks(path)
            time.sleep(seconds)
            return ticks(path) > a

        c, path = start("closed")
        time.sleep(1.2)
        check(growing(path), "the script runs while its client waits")
        c.close()
        time.sleep(1.5)
        check(not growing(path), "closing the stream within the budget ends the script")
        jobs = s.call(2, "py_list_jobs", {}).message()["result"]["structuredContent"]["jobs"]
        check(jobs[0]["status"] == "cancelled", "and its job is cancelled", jobs[0])

        # Handed back at the 3 s budget: a close then cancels nothing.
        c, path = start("handed")
        r = read_response(c)
        job = r.message()["result"]["structuredContent"]
        check(job.get("status") == "running" and job.get("job_id"), "handed back as a job", job)
        c.close()
        time.sleep(1)
        check(growing(path), "a handed-back job goes on after its client closes")
        s.call(3, "py_cancel_job", {"job_id": job["job_id"]})

        # Legacy: a disconnect is no cancellation (2025-11-25).
        sid = initialize(s)
        c, path = start("legacy", sid)
        time.sleep(1.2)
        c.close()
        time.sleep(1)
        check(growing(path), "a legacy client's close cancels nothing")
    finally:
        s.stop()
        s.cleanup()


@case
def hostile_clients(binary):
    """Garbage, floods and abrupt closes: the server answers or drops each,
    never crashes, and serves a well-behaved client throughout."""
    s = Server(binary, ["--http-max-connections", "64"])
    good = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {"_meta": META}}
    gh = {"MCP-Protocol-Version": MODERN, "Mcp-Method": "tools/list"}
    try:
        junk = [b"GARBAGE\r\n\r\n", b"POST /mcp HTTP/9.9\r\n\r\n", b"\x00\xff" * 100 + b"\r\n\r\n",
                b"POST /mcp HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n"
                b"Content-Type: application/json\r\n\r\nZZ\r\nxx\r\n",
                b"POST /mcp HTTP/1.1\r\nHost: localhost\r\nContent-Length: -5\r\n\r\n",
                b"POST /mcp HTTP/1.1\r\nHost: localhost\r\nContent-Length: 99999999999999999999\r\n\r\n",
                b"POST /mcp HTTP/1.1\r\n" + b"X: y\r\n" * 2000 + b"\r\n"]
        for j in junk:
            with s.connect() as c:
                c.sendall(j)
                c.settimeout(5)
                try:
                    c.recv(4096)
                except (socket.timeout, ConnectionResetError):
                    pass
        # A flood of connections, most closed at once.
        socks = []
        for _ in range(200):
            try:
                socks.append(s.connect())
            except OSError:
                break
        for c in socks:
            c.close()
        # Requests abandoned midway, in many ways.
        for n in (10, 60, 120):
            c = s.connect()
            c.sendall(json.dumps(good).encode()[:n])
            c.close()

        def client():
            # Served, or told to retry while the flood's connections are
            # still being closed (the connection cap at work).
            served = 0
            for _ in range(50):
                try:
                    r = s.request(body=good, headers=gh)
                except Fail:
                    continue
                check(r.status in (200, 503), "a good client during the flood", r.status)
                served += r.status == 200
                if served == 5:
                    return
                time.sleep(0.1)
            raise Fail("a good client was served fewer than 5 times in 50 tries")
        errors = []

        def guarded():
            try:
                client()
            except Exception as e:  # reported by the main thread
                errors.append(e)
        t = threading.Thread(target=guarded)
        t.start()
        t.join(60)
        check(not t.is_alive() and not errors, "the good client was served", errors)
        check(s.proc.poll() is None, "the server survived", s.logs())
        check(s.request(body=good, headers=gh).status == 200, "and still serves")
    finally:
        rc = s.stop()
        s.cleanup()
    check(rc == 0, "it stops cleanly on SIGTERM", rc)


@case
def shutdown_with_clients(binary):
    """SIGTERM while clients hold connections and requests: exits 0
    once the drain's grace (1 s here) is over, the running job recorded as
    failed with the reason, not lost."""
    s = Server(binary, ["--drain-seconds", "1"])
    try:
        idle = [s.connect() for _ in range(5)]
        c = s.connect()
        s.send(c, body={"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
            "name": "py_run_script_in_dir", "_meta": META,
            "arguments": {"directory": s.ws, "script_content": "import time; time.sleep(60)"}}},
            headers={"MCP-Protocol-Version": MODERN, "Mcp-Method": "tools/call",
                     "Mcp-Name": "py_run_script_in_dir"})
        time.sleep(1.5)
        t0 = time.time()
        rc = s.stop()
        check(rc == 0 and time.time() - t0 < 10, "SIGTERM: exit 0 within seconds",
              (rc, time.time() - t0))
        jobs = json.load(open(os.path.join(s.base, "state", "meta", "jobs.json")))
        check(len(jobs) == 1 and jobs[0]["status"] in ("failed", "cancelled")
              and "Server shut down" in (jobs[0]["error"] or ""),
              "the running job is recorded, saying why", jobs)
        for x in idle + [c]:
            x.close()
    finally:
        s.cleanup()


@case
def drain_on_sigterm(binary):
    """The first SIGTERM drains: a call in progress gets its answer, a new
    request gets 503 (or no connection), then the server exits 0."""
    s = Server(binary, ["--drain-seconds", "60"])
    try:
        c = s.connect()
        s.send(c, body={"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
            "name": "py_run_script_in_dir", "_meta": META,
            "arguments": {"directory": s.ws,
                          "script_content": "import time; time.sleep(2); print('done')"}}},
            headers={"MCP-Protocol-Version": MODERN, "Mcp-Method": "tools/call",
                     "Mcp-Name": "py_run_script_in_dir"})
        late = s.connect()
        time.sleep(0.7)
        s.proc.send_signal(signal.SIGTERM)
        deadline = time.time() + 10
        while "draining" not in s.logs() and time.time() < deadline:
            time.sleep(0.05)
        check("draining" in s.logs(), "SIGTERM starts a drain", s.logs())
        try:
            with s.connect() as fresh:
                s.send(fresh, body={"jsonrpc": "2.0", "id": 2, "method": "server/discover",
                                    "params": {"_meta": META}},
                       headers={"MCP-Protocol-Version": MODERN, "Mcp-Method": "server/discover"})
                refused = read_response(fresh).status == 503
        except OSError:
            refused = True
        check(refused, "a new connection is refused")
        s.send(late, body={"jsonrpc": "2.0", "id": 3, "method": "server/discover",
                           "params": {"_meta": META}},
               headers={"MCP-Protocol-Version": MODERN, "Mcp-Method": "server/discover"})
        check(read_response(late).status == 503, "a new request on an open connection: 503")
        r = read_response(c)
        out = r.message()["result"]["structuredContent"]["stdout"]
        check(r.status == 200 and out == "done\n", "the call in progress got its answer", r.body)
        rc = s.proc.wait(30)
        check(rc == 0, f"then the server exits 0 (got {rc})", s.logs())
        c.close()
        late.close()
    finally:
        s.cleanup()


@case
def health_and_metrics(binary):
    """/healthz, /readyz (503 with the reason when the state directory
    cannot be written, 200 again once it can) and /metrics in the
    Prometheus text format, counting a real run."""
    s = Server(binary)
    try:
        r = s.request(method="GET", path="/healthz")
        check(r.status == 200 and r.body == b"ok\n", "/healthz", (r.status, r.body))
        deadline = time.time() + 30
        while time.time() < deadline:
            r = s.request(method="GET", path="/readyz")
            if r.status == 200:
                break
            time.sleep(0.1)
        check(r.status == 200 and r.body == b"ready\n", "/readyz once a sandbox is up",
              (r.status, r.body))
        # The probe file's name taken by a directory: no file can be made.
        blocker = os.path.join(s.base, "state", "meta", ".ready-probe")
        os.mkdir(blocker)
        r = s.request(method="GET", path="/readyz")
        check(r.status == 503 and b"state directory" in r.body, "/readyz: 503 naming the cause",
              (r.status, r.body))
        os.rmdir(blocker)
        check(s.request(method="GET", path="/readyz").status == 200, "/readyz: ready again")
        r = s.call(1, "py_run_script_in_dir", {"directory": s.ws, "script_content": "print(1)"})
        check(r.status == 200, "a run", r.body)
        r = s.request(method="GET", path="/metrics")
        text = r.body.decode()
        check(r.status == 200 and r.headers.get("content-type", "").startswith("text/plain; version=0.0.4"),
              "/metrics: the Prometheus text format", (r.status, r.headers))
        sample = re.compile(r'^[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? [0-9.e+-]+$')
        for line in text.splitlines():
            check(line.startswith("# HELP ") or line.startswith("# TYPE ") or sample.match(line),
                  "every line is a comment or a sample", line)
        for want in ('python_mcp_runs_total{outcome="success",limit="none"} 1',
                     "python_mcp_run_seconds_count 1", 'python_mcp_run_seconds_bucket{le="+Inf"} 1',
                     'python_mcp_jobs{status="completed"} 1', "python_mcp_queue_length 0",
                     'python_mcp_http_requests_total{status="200"}', "python_mcp_http_sessions 0",
                     "python_mcp_launchers_ready"):
            check(want in text, f"/metrics has {want}", text)
        r = s.request(method="POST", path="/metrics", body=b"{}")
        check(r.status == 405, "/metrics takes GET only", (r.status, r.body))
    finally:
        s.stop()
        s.cleanup()


if __name__ == "__main__":
    sys.exit(run_case(CASES))
