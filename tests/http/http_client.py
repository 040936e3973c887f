"""A bare HTTP/1.1 client and a server process for the Streamable HTTP
tests: raw sockets, so that a test controls every byte, header and close,
and sees exactly what the server sends."""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

MODERN = "2026-07-28"
META = {"io.modelcontextprotocol/protocolVersion": MODERN,
        "io.modelcontextprotocol/clientCapabilities": {}}


class Fail(AssertionError):
    pass


def check(cond, what, detail=None):
    if not cond:
        raise Fail(what + ("" if detail is None else f": {detail!r}"[:2000]))


class Response:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        return json.loads(self.body)

    def events(self):
        """The data of each SSE event, parsed."""
        return [json.loads(m) for m in re.findall(rb"^data: (.*)$", self.body, re.M)]

    def message(self):
        """The JSON-RPC answer, whether sent as JSON or as the last SSE event."""
        if self.headers.get("content-type", "").startswith("text/event-stream"):
            return self.events()[-1]
        return self.json()


def read_response(sock, timeout=60):
    """Reads one response (Content-Length, chunked, or up to close)."""
    sock.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise Fail("connection closed before a response", data[:200])
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    if "content-length" in headers:
        n = int(headers["content-length"])
        while len(rest) < n:
            chunk = sock.recv(65536)
            if not chunk:
                break
            rest += chunk
        return Response(status, headers, rest[:n])
    if headers.get("transfer-encoding") == "chunked":
        body = b""
        while True:
            while b"\r\n" not in rest:
                rest += sock.recv(65536)
            size_line, rest = rest.split(b"\r\n", 1)
            size = int(size_line.split(b";")[0], 16)
            while len(rest) < size + 2:
                chunk = sock.recv(65536)
                if not chunk:
                    raise Fail("connection closed inside a chunk")
                rest += chunk
            body += rest[:size]
            rest = rest[size + 2:]
            if size == 0:
                return Response(status, headers, body)
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return Response(status, headers, rest)
        rest += chunk


class Server:
    def __init__(self, binary, args=(), env=None):
        self.base = tempfile.mkdtemp(prefix="pymcp-http-", dir="/tmp")
        os.chmod(self.base, 0o755)
        self.ws = os.path.join(self.base, "ws")
        os.makedirs(self.ws)
        self.log = os.path.join(self.base, "server.log")
        full_env = dict(os.environ)
        full_env.update(env or {})
        self.proc = subprocess.Popen(
            [binary, "--transport", "http", "--listen", "127.0.0.1:0",
             "--state-dir", os.path.join(self.base, "state"),
             "--workspace-root", self.ws, *args],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=open(self.log, "w"), env=full_env)
        deadline = time.time() + 30
        self.port = None
        while self.port is None and time.time() < deadline:
            m = re.search(r"serving MCP over HTTP at http://127\.0\.0\.1:(\d+)/mcp",
                          open(self.log).read())
            if m:
                self.port = int(m.group(1))
            elif self.proc.poll() is not None:
                break
            else:
                time.sleep(0.05)
        check(self.port is not None, "the server listens", self.logs())

    def logs(self):
        return open(self.log).read()[-4000:]

    def connect(self):
        return socket.create_connection(("127.0.0.1", self.port), timeout=30)

    def send(self, sock, method="POST", body=None, headers=None, path="/mcp"):
        data = b"" if body is None else (body if isinstance(body, bytes) else
                                         json.dumps(body).encode())
        h = {"Host": f"127.0.0.1:{self.port}"}
        if method == "POST":
            h["Content-Type"] = "application/json"
            h["Accept"] = "application/json, text/event-stream"
        h.update(headers or {})
        h = {k: v for k, v in h.items() if v is not None}
        if body is not None:
            h["Content-Length"] = str(len(data))
        head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in h.items())
        sock.sendall(head.encode() + b"\r\n" + data)

    def request(self, method="POST", body=None, headers=None, path="/mcp", timeout=60):
        with self.connect() as s:
            self.send(s, method, body, headers, path)
            return read_response(s, timeout)

    def modern(self, id_, method, params=None, name=None, headers=None, timeout=60):
        """A 2026-07-28 request with its headers right."""
        p = dict(params or {})
        p["_meta"] = dict(META, **p.get("_meta", {}))
        h = {"MCP-Protocol-Version": MODERN, "Mcp-Method": method}
        if name is not None:
            h["Mcp-Name"] = name
        h.update(headers or {})
        return self.request(body={"jsonrpc": "2.0", "id": id_, "method": method, "params": p},
                            headers=h, timeout=timeout)

    def call(self, id_, tool, args, timeout=60):
        return self.modern(id_, "tools/call", {"name": tool, "arguments": args}, name=tool,
                           timeout=timeout)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise Fail("the server did not stop within 30 s of SIGTERM", self.logs())
        return self.proc.returncode

    def cleanup(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.base, ignore_errors=True)


def run_case(cases):
    """The command line of the HTTP suites: --server PATH CASE, one case a
    run; a failed check or an unexpected exception fails it."""
    import argparse
    import traceback
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    ap.add_argument("case", choices=sorted(cases))
    a = ap.parse_args()
    t0 = time.time()
    try:
        cases[a.case](os.path.abspath(a.server))
    except Fail as e:
        traceback.print_exc(limit=-2)
        print(f"FAIL {a.case}: {e}")
        return 1
    except Exception:
        traceback.print_exc()
        print(f"FAIL {a.case}: unexpected exception")
        return 1
    print(f"PASS {a.case} in {time.time() - t0:.1f} s")
    return 0
