#!/usr/bin/python3
"""Process-level behaviour of python-mcp on stdio, one case per run:

  exit_on_eof           stdin closed -> exit 0 promptly
  exit_on_sigterm       SIGTERM (stdin still open) -> exit 0 promptly
  exit_on_sigint        SIGINT likewise
  sigterm_stuck_stdout  SIGTERM (twice) while the client reads nothing ->
                        exit 0 within the flush timeout
  eof_stuck_stdout      stdin closed while the client reads nothing ->
                        exit 0 within the flush timeout
  stderr_not_read       a client that never reads stderr does not block
                        the server, however much it logs
  files                 stdin and stdout regular files
  dev_null              stdin /dev/null -> exit 0, no output
  tty                   stdin and stdout a terminal
  socket                stdin and stdout one end of a socket pair
  stdout_closed         the client closes our stdout -> exit 0, no SIGPIPE
  long_line_memory      a 64 MiB line is refused without buffering it
  backpressure          a client that does not read stops our reading;
                        memory stays flat and every answer arrives in order
  stdout_only_json      logs (MCP_DEBUG=true) go to stderr, never stdout
  usage                 --help, --version and bad options

Every run gets --state-dir in a fresh temporary directory.

Usage: test_process.py SERVER CASE [--rss-limit-mb N]
"""
import json
import os
import pty
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import tty

SERVER = None
STATE = None  # a temporary --state-dir for every run
RSS_LIMIT_MB = 64
PROMPT = 5.0  # seconds: "promptly", with room for sanitizer builds

INIT = (b'{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":'
        b'"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}\n')


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def start(args=(), **kw):
    kw.setdefault("stdin", subprocess.PIPE)
    kw.setdefault("stdout", subprocess.PIPE)
    kw.setdefault("stderr", subprocess.PIPE)
    return subprocess.Popen([SERVER, "--state-dir", STATE, *args], **kw)


def wait_exit(proc, what, limit=PROMPT):
    t0 = time.monotonic()
    try:
        rc = proc.wait(timeout=limit)
    except subprocess.TimeoutExpired:
        proc.kill()
        fail(f"{what}: still running after {limit} s")
    if rc != 0:
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        fail(f"{what}: exit status {rc}, expected 0\n{err}")
    return time.monotonic() - t0


def read_msg(proc):
    line = proc.stdout.readline()
    if not line:
        fail("stdout ended early")
    return json.loads(line)


def initialize(proc):
    proc.stdin.write(INIT)
    proc.stdin.flush()
    msg = read_msg(proc)
    if msg.get("result", {}).get("protocolVersion") != "2025-11-25":
        fail(f"initialize answered {msg}")


def peak_rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0


def case_exit_on_eof():
    proc = start()
    initialize(proc)
    proc.stdin.close()
    took = wait_exit(proc, "after stdin EOF")
    if proc.stdout.read() != b"":
        fail("unexpected output after EOF")
    print(f"exited {took:.2f} s after EOF")


def exit_on_signal(signum):
    proc = start()
    initialize(proc)
    proc.send_signal(signum)
    took = wait_exit(proc, f"after signal {signum}")
    print(f"exited {took:.2f} s after signal {signum}")


def case_exit_on_sigterm():
    exit_on_signal(signal.SIGTERM)


def case_exit_on_sigint():
    exit_on_signal(signal.SIGINT)


def case_sigterm_stuck_stdout():
    proc = start()
    initialize(proc)
    # Fill the server's output queue: it answers pings we never read.
    ping = b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"_meta":{"p":"' + b"x" * 4000 + b'"}}}\n'
    stop = threading.Event()

    def writer():
        try:
            while not stop.is_set():
                proc.stdin.write(ping * 64)
        except (BrokenPipeError, ValueError, OSError):
            pass
    t = threading.Thread(target=writer, daemon=True)
    t.start()
    time.sleep(1.0)
    proc.send_signal(signal.SIGTERM)
    # A second one while the server flushes must not kill it mid-write.
    time.sleep(0.3)
    proc.send_signal(signal.SIGTERM)
    took = wait_exit(proc, "SIGTERM with a stuck stdout", limit=PROMPT + 2)
    stop.set()
    print(f"exited {took:.2f} s after SIGTERM with a stuck stdout")


def case_eof_stuck_stdout():
    proc = start()
    initialize(proc)
    # About 600 KB of answers: more than the pipe holds, less than the
    # high-water mark, so the server reads on to EOF and then cannot flush.
    pings = b"".join(b'{"jsonrpc":"2.0","id":%d,"method":"ping"}\n' % i for i in range(15000))
    proc.stdin.write(pings)
    proc.stdin.close()
    took = wait_exit(proc, "EOF with a stuck stdout", limit=PROMPT + 2)
    print(f"exited {took:.2f} s after EOF with a stuck stdout")


def case_stderr_not_read():
    env = dict(os.environ, MCP_DEBUG="true")
    proc = start(env=env)
    initialize(proc)
    # Every ignored notification is a debug line: far more than a pipe holds.
    proc.stdin.write(b'{"jsonrpc":"2.0","method":"notifications/x"}\n' * 50000)
    proc.stdin.write(b'{"jsonrpc":"2.0","id":2,"method":"ping"}\n')
    proc.stdin.flush()
    ready, _, _ = select.select([proc.stdout], [], [], PROMPT * 2)
    if not ready:
        proc.kill()
        fail("no answer: the server blocked on a full stderr")
    if read_msg(proc) != {"jsonrpc": "2.0", "id": 2, "result": {}}:
        fail("unexpected answer")
    # Once stderr has room again, the next line says what was lost.
    tail = []
    drain = threading.Thread(target=lambda: tail.append(proc.stderr.read()), daemon=True)
    drain.start()
    time.sleep(0.5)
    proc.stdin.write(b'{"jsonrpc":"2.0","method":"notifications/x"}\n')
    proc.stdin.close()
    wait_exit(proc, "after the log flood")
    drain.join(timeout=PROMPT)
    tail = tail[0] if tail else b""
    if b"log lines dropped" not in tail:
        fail(f"no note of dropped log lines: {tail[-300:]!r}")


def case_files():
    with tempfile.TemporaryDirectory() as d:
        inp, out = os.path.join(d, "in.jsonl"), os.path.join(d, "out.jsonl")
        with open(inp, "wb") as f:
            f.write(INIT)
            for i in range(2, 2002):
                f.write(b'{"jsonrpc":"2.0","id":%d,"method":"ping"}\n' % i)
        with open(inp, "rb") as i, open(out, "wb") as o:
            proc = start(stdin=i, stdout=o)
            wait_exit(proc, "stdin and stdout files")
        with open(out, "rb") as f:
            msgs = [json.loads(line) for line in f]
        if [m["id"] for m in msgs] != list(range(1, 2002)):
            fail("answers missing or out of order")
    print("2001 answers in order, to a file")


def case_dev_null():
    with open(os.devnull, "rb") as i:
        proc = start(stdin=i)
        wait_exit(proc, "stdin /dev/null")
    if proc.stdout.read() != b"":
        fail("output for empty input")


def case_tty():
    master, slave = pty.openpty()
    tty.setraw(slave)  # no echo, no CRLF translation: bytes as they are
    proc = start(stdin=slave, stdout=slave)
    os.close(slave)
    os.write(master, INIT)
    os.write(master, b'{"jsonrpc":"2.0","id":2,"method":"ping"}\n')
    buf = b""
    deadline = time.monotonic() + PROMPT
    while buf.count(b"\n") < 2 and time.monotonic() < deadline:
        r, _, _ = select.select([master], [], [], 0.2)
        if r:
            buf += os.read(master, 65536)
    lines = buf.splitlines()
    if len(lines) < 2 or json.loads(lines[1]) != {"jsonrpc": "2.0", "id": 2, "result": {}}:
        fail(f"unexpected terminal output {buf[:300]!r}")
    proc.send_signal(signal.SIGTERM)
    wait_exit(proc, "terminal session")
    os.close(master)
    print("served a terminal")


def case_socket():
    ours, theirs = socket.socketpair()
    proc = start(stdin=theirs, stdout=theirs)
    theirs.close()
    ours.sendall(INIT + b'{"jsonrpc":"2.0","id":2,"method":"ping"}\n')
    ours.shutdown(socket.SHUT_WR)  # EOF for the server's reads
    buf = b""
    ours.settimeout(PROMPT)
    while True:
        data = ours.recv(65536)
        if not data:
            break
        buf += data
    wait_exit(proc, "socket session")
    lines = buf.splitlines()
    if len(lines) != 2 or json.loads(lines[1]) != {"jsonrpc": "2.0", "id": 2, "result": {}}:
        fail(f"unexpected socket output {buf[:300]!r}")
    print("served a socket")


def case_stdout_closed():
    proc = start()
    initialize(proc)
    proc.stdout.close()
    try:
        for i in range(100):
            proc.stdin.write(b'{"jsonrpc":"2.0","id":%d,"method":"ping"}\n' % i)
            proc.stdin.flush()
    except BrokenPipeError:
        pass
    took = wait_exit(proc, "stdout closed by the client")
    print(f"exited {took:.2f} s after losing stdout")


def case_long_line_memory():
    proc = start()
    initialize(proc)
    chunk = b"x" * (1 << 20)
    proc.stdin.write(b'{"jsonrpc":"2.0","id":2,"method":"ping","params":{"_meta":{"p":"')
    for _ in range(64):
        proc.stdin.write(chunk)
    proc.stdin.write(b'"}}}\n{"jsonrpc":"2.0","id":3,"method":"ping"}\n')
    proc.stdin.flush()
    err = read_msg(proc)
    # The id is read even from a line too long to keep.
    if err.get("id") != 2 or err.get("error", {}).get("code") != -32600:
        fail(f"expected a -32600 with id 2 for the long line, got {err}")
    if read_msg(proc) != {"jsonrpc": "2.0", "id": 3, "result": {}}:
        fail("no answer after the long line")
    rss = peak_rss_mb(proc.pid)
    proc.stdin.close()
    wait_exit(proc, "after the long line")
    if rss > RSS_LIMIT_MB:
        fail(f"peak RSS {rss:.1f} MiB for a 64 MiB line (limit {RSS_LIMIT_MB})")
    print(f"64 MiB line refused; peak RSS {rss:.1f} MiB")


def case_backpressure():
    proc = start()
    initialize(proc)
    n = 40000
    pad = "x" * 1000
    pings = b"".join(b'{"jsonrpc":"2.0","id":%d,"method":"ping","params":{"_meta":{"p":"%s"}}}\n'
                     % (i, pad.encode()) for i in range(n))
    written = [0]

    def writer():
        view = memoryview(pings)
        try:
            while written[0] < len(view):
                k = os.write(proc.stdin.fileno(), view[written[0]:written[0] + 65536])
                written[0] += k
            proc.stdin.close()
        except (BrokenPipeError, OSError):
            pass
    t = threading.Thread(target=writer, daemon=True)
    t.start()
    time.sleep(2.0)
    # Answers are tiny, but the server must still stop reading once its
    # queue is full: the writer is then stuck.
    stalled_at = written[0]
    rss = peak_rss_mb(proc.pid)
    count, expect = 0, 0
    for line in proc.stdout:
        msg = json.loads(line)
        if msg.get("id") != expect:
            fail(f"answer {count}: id {msg.get('id')}, expected {expect}")
        expect += 1
        count += 1
    t.join(timeout=PROMPT)
    wait_exit(proc, "after the flood")
    if count != n:
        fail(f"{count} answers for {n} pings")
    print(f"writer stalled at {stalled_at} of {len(pings)} bytes; peak RSS {rss:.1f} MiB")
    if stalled_at >= len(pings):
        fail("the server read everything without anyone reading its answers")
    if rss > RSS_LIMIT_MB:
        fail(f"peak RSS {rss:.1f} MiB while the client did not read (limit {RSS_LIMIT_MB})")


def case_stdout_only_json():
    env = dict(os.environ, MCP_DEBUG="true")
    proc = start(env=env)
    out, err = proc.communicate(INIT + b'{"jsonrpc":"2.0","method":"nope"}\n', timeout=PROMPT * 2)
    if proc.returncode != 0:
        fail(f"exit status {proc.returncode}")
    lines = out.splitlines()
    if len(lines) != 1 or json.loads(lines[0])["id"] != 1:
        fail(f"stdout holds more than the answer: {out[:300]!r}")
    if b"debug" not in err:
        fail(f"MCP_DEBUG=true gave no debug lines on stderr: {err[:300]!r}")


def case_usage():
    def run(*args):
        return subprocess.run([SERVER, *args], capture_output=True, timeout=PROMPT * 2)
    r = run("--help")
    if r.returncode != 0 or b"--max-request-bytes" not in r.stdout:
        fail(f"--help: {r}")
    r = run("--version")
    if r.returncode != 0 or not r.stdout.startswith(b"python-mcp "):
        fail(f"--version: {r}")
    for bad in (["--bogus"], ["--log-level", "loud"], ["--max-json-depth", "0"],
                ["--max-request-bytes", "-5"], ["--log-level"], ["extra"]):
        r = run(*bad)
        if r.returncode != 2 or not r.stderr.startswith(b"python-mcp: ") or r.stdout:
            fail(f"{bad}: status {r.returncode}, stderr {r.stderr!r}")


def main():
    global SERVER, STATE, RSS_LIMIT_MB
    args = sys.argv[1:]
    if "--rss-limit-mb" in args:
        i = args.index("--rss-limit-mb")
        RSS_LIMIT_MB = float(args[i + 1])
        del args[i:i + 2]
    if len(args) != 2:
        sys.exit(__doc__)
    SERVER = args[0]
    case = globals().get("case_" + args[1])
    if case is None:
        sys.exit(f"unknown case {args[1]}")
    with tempfile.TemporaryDirectory(prefix="protocol-process-") as STATE:
        case()


if __name__ == "__main__":
    main()
