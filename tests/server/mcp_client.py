"""A small stdlib MCP client for the end-to-end tests and bench/server.py.

It spawns python-mcp on real pipes (the stdio transport), reads its stdout
on a thread (one JSON-RPC message per line), answers requests by id and
keeps notifications and id-less errors aside.  Every tools/call result it
sees is checked: content[0] holds the same JSON as structuredContent, and
structuredContent conforms to the tool's outputSchema (jsonschema when
/usr/bin/python3 has it, else the minimal validator below).
"""
import json
import os
import signal
import subprocess
import threading
import time

try:
    import jsonschema  # noqa: F401
    VALIDATOR = "jsonschema"
except ImportError:
    jsonschema = None
    VALIDATOR = "minimal (type/required/properties/additionalProperties/items/anyOf/oneOf/allOf/enum/const/minimum/maximum)"

PROTOCOL = "2025-11-25"


class Failure(Exception):
    pass


# ---------------------------------------------------------------------------
# JSON Schema: a minimal validator of the keywords the server's schemas use.

def _type_ok(value, t):
    if t == "object":
        return isinstance(value, dict)
    if t == "array":
        return isinstance(value, list)
    if t == "string":
        return isinstance(value, str)
    if t == "boolean":
        return isinstance(value, bool)
    if t == "null":
        return value is None
    if t == "integer":
        return isinstance(value, int) and not isinstance(value, bool) or (
            isinstance(value, float) and value.is_integer())
    if t == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    raise Failure(f"schema uses unknown type {t!r}")


def minimal_errors(value, schema, path="$"):
    """The list of reasons `value` does not conform to `schema`."""
    if schema is True or schema is None or schema == {}:
        return []
    if schema is False:
        return [f"{path}: schema false"]
    errs = []
    t = schema.get("type")
    if t is not None:
        types = t if isinstance(t, list) else [t]
        if not any(_type_ok(value, x) for x in types):
            return [f"{path}: {type(value).__name__} is not of type {t}"]
    if "enum" in schema and value not in schema["enum"]:
        errs.append(f"{path}: {value!r} not in enum {schema['enum']}")
    if "const" in schema and value != schema["const"]:
        errs.append(f"{path}: {value!r} != const {schema['const']!r}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            errs.append(f"{path}: {value} < minimum {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            errs.append(f"{path}: {value} > maximum {schema['maximum']}")
    if isinstance(value, dict):
        for k in schema.get("required", []):
            if k not in value:
                errs.append(f"{path}: missing required {k!r}")
        props = schema.get("properties", {})
        for k, v in value.items():
            if k in props:
                errs += minimal_errors(v, props[k], f"{path}.{k}")
            elif "additionalProperties" in schema:
                errs += minimal_errors(v, schema["additionalProperties"], f"{path}.{k}")
    if isinstance(value, list) and "items" in schema:
        for i, v in enumerate(value):
            errs += minimal_errors(v, schema["items"], f"{path}[{i}]")
    if "anyOf" in schema:
        branches = [minimal_errors(value, s, path) for s in schema["anyOf"]]
        if all(branches):
            errs.append(f"{path}: matches no anyOf branch: {branches}")
    if "oneOf" in schema:
        n = sum(1 for s in schema["oneOf"] if not minimal_errors(value, s, path))
        if n != 1:
            errs.append(f"{path}: matches {n} oneOf branches, expected 1")
    for s in schema.get("allOf", []):
        errs += minimal_errors(value, s, path)
    return errs


def schema_errors(value, schema):
    if jsonschema is not None:
        v = jsonschema.validators.validator_for(schema)(schema)
        return [f"{'/'.join(map(str, e.path)) or '$'}: {e.message}" for e in v.iter_errors(value)]
    return minimal_errors(value, schema)


# ---------------------------------------------------------------------------
# Process helpers

def proc_stat(pid):
    """(state, ppid, starttime) of a process, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            s = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    rest = s[s.rindex(")") + 2:].split()
    return rest[0], int(rest[1]), int(rest[19])


def alive(pid, starttime):
    """True while that very process (not a reused pid) exists and is no zombie."""
    st = proc_stat(pid)
    return st is not None and st[2] == starttime and st[0] not in ("Z", "X")


def descendants(pid):
    """[(pid, starttime)] of every descendant, from /proc/<pid>/task/*/children."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        try:
            tasks = os.listdir(f"/proc/{p}/task")
        except FileNotFoundError:
            continue
        for t in tasks:
            try:
                with open(f"/proc/{p}/task/{t}/children") as f:
                    kids = [int(x) for x in f.read().split()]
            except FileNotFoundError:
                continue
            for k in kids:
                st = proc_stat(k)
                if st:
                    out.append((k, st[2]))
                    todo.append(k)
    return out


def cmdline(pid):
    """A process's command line, arguments joined by spaces ("" when it is gone)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def pids_with_cmdline(marker):
    """Live (non-zombie) processes whose command line holds `marker`."""
    found = []
    mb = marker.encode()
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == os.getpid():
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as f:
                cmd = f.read()
        except OSError:
            continue
        st = proc_stat(int(name))
        if mb in cmd and st and st[0] not in ("Z", "X"):
            found.append((int(name), cmd.replace(b"\0", b" ").decode(errors="replace")))
    return found


def proc_status_kb(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise Failure(f"no {field} in /proc/{pid}/status")


def wait_until(pred, timeout, what, interval=0.05):
    """Poll pred() until true; generous timeouts only, never an assertion on speed."""
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > end:
            raise Failure(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


# ---------------------------------------------------------------------------
# The client

class Server:
    """One python-mcp process on stdio."""

    def __init__(self, binary, state_dir, roots=(), env=None, args=(), smart=None,
                 log_path=None, validate=True, cwd=None):
        self.binary = binary
        self.state_dir = state_dir
        self.roots = list(roots)
        self.extra_env = dict(env or {})
        if smart is not None:
            self.extra_env["SMART_ASYNC_TIMEOUT_SECONDS"] = str(smart)
        self.args = list(args)
        self.log_path = log_path or os.path.join(os.path.dirname(state_dir.rstrip("/")),
                                                 "server-stderr.log")
        self.validate = validate
        self.cwd = cwd
        self.proc = None
        self.tools = {}
        self.validated = 0
        self._next_id = 1000
        self._lock = threading.Condition()
        self._responses = {}
        self.notifications = []
        self.orphans = []          # responses without an id (parse errors...)
        self.bad_lines = []        # stdout lines that are not JSON objects
        self._eof = False

    # -- process --------------------------------------------------------------
    def start(self, initialize=True):
        argv = [self.binary, "--state-dir", self.state_dir]
        for r in self.roots:
            argv += ["--workspace-root", r]
        argv += self.args
        env = dict(os.environ)
        env.update(self.extra_env)
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self._log, env=env, cwd=self.cwd)
        self._eof = False
        self._reader = threading.Thread(target=self._read_loop, daemon=True)
        self._reader.start()
        if initialize:
            self.initialize()
        return self

    def _read_loop(self):
        out = self.proc.stdout
        while True:
            line = out.readline()
            if not line:
                break
            try:
                msg = json.loads(line)
            except ValueError as e:
                with self._lock:
                    self.bad_lines.append((line[:200], str(e)))
                    self._lock.notify_all()
                continue
            with self._lock:
                if not isinstance(msg, dict):
                    self.bad_lines.append((line[:200], "not an object"))
                elif "method" in msg and "id" not in msg:
                    self.notifications.append(msg)
                elif "method" in msg:
                    # A request from the server: we declare no capabilities,
                    # so answer ping and refuse the rest.
                    self._answer_server_request(msg)
                elif msg.get("id") is None:
                    self.orphans.append(msg)
                else:
                    self._responses[msg["id"]] = msg
                self._lock.notify_all()
        with self._lock:
            self._eof = True
            self._lock.notify_all()

    def _answer_server_request(self, msg):
        if msg["method"] == "ping":
            reply = {"jsonrpc": "2.0", "id": msg["id"], "result": {}}
        else:
            reply = {"jsonrpc": "2.0", "id": msg["id"],
                     "error": {"code": -32601, "message": "not supported by the test client"}}
        try:
            self.send(reply)
        except OSError:
            pass

    def stderr_tail(self, n=4000):
        try:
            with open(self.log_path, "rb") as f:
                data = f.read()
            return data[-n:].decode(errors="replace")
        except OSError:
            return ""

    @property
    def pid(self):
        return self.proc.pid

    def close_stdin(self):
        try:
            self.proc.stdin.close()
        except OSError:
            pass

    def wait_exit(self, timeout=60):
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise Failure(f"server still running {timeout} s after it was asked to stop")
        self._reader.join(timeout=10)
        self._log.close()
        return rc

    def stop(self):
        """Orderly: stdin EOF, then the exit status must be 0."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.close_stdin()
        rc = self.wait_exit()
        if rc != 0:
            raise Failure(f"server exited {rc} after stdin EOF\n{self.stderr_tail()}")
        return rc

    def kill(self, sig=signal.SIGKILL):
        self.proc.send_signal(sig)

    # -- messages -------------------------------------------------------------
    def send_raw(self, data):
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def send(self, msg):
        self.send_raw(json.dumps(msg, separators=(",", ":")).encode() + b"\n")

    def new_id(self):
        self._next_id += 1
        return self._next_id

    def send_request(self, method, params=None, id=None):
        rid = self.new_id() if id is None else id
        msg = {"jsonrpc": "2.0", "id": rid, "method": method}
        if params is not None:
            msg["params"] = params
        self.send(msg)
        return rid

    def wait_response(self, rid, timeout=120):
        end = time.monotonic() + timeout
        with self._lock:
            while rid not in self._responses:
                if self._eof:
                    raise Failure(f"server closed stdout before answering id {rid}; "
                                  f"exit {self.proc.poll()}\n{self.stderr_tail()}")
                left = end - time.monotonic()
                if left <= 0:
                    raise Failure(f"no answer to id {rid} within {timeout} s")
                self._lock.wait(left)
            return self._responses.pop(rid)

    def request(self, method, params=None, timeout=120):
        msg = self.wait_response(self.send_request(method, params), timeout)
        if "error" in msg:
            raise Failure(f"{method} answered a JSON-RPC error: {msg['error']}")
        return msg["result"]

    def request_error(self, method, params=None, timeout=120):
        """A request that must fail with a JSON-RPC error: returns the error."""
        msg = self.wait_response(self.send_request(method, params), timeout)
        if "error" not in msg:
            raise Failure(f"{method} {params} should have failed, answered {msg}")
        return msg["error"]

    def notify(self, method, params=None):
        msg = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            msg["params"] = params
        self.send(msg)

    def initialize(self):
        r = self.request("initialize", {"protocolVersion": PROTOCOL, "capabilities": {},
                                        "clientInfo": {"name": "e2e", "version": "1"}})
        if r.get("protocolVersion") != PROTOCOL:
            raise Failure(f"initialize: protocolVersion {r.get('protocolVersion')}")
        self.notify("notifications/initialized")
        self.tools = {t["name"]: t for t in self.request("tools/list")["tools"]}
        return r

    # -- tools ----------------------------------------------------------------
    def check_result(self, name, result):
        """The result shape every tools/call must have; returns structuredContent."""
        if not isinstance(result.get("content"), list) or not result["content"]:
            raise Failure(f"{name}: result without content: {result}")
        sc = result.get("structuredContent")
        if sc is None:
            raise Failure(f"{name}: result without structuredContent: {result}")
        block = result["content"][0]
        if block.get("type") != "text" or json.loads(block["text"]) != sc:
            raise Failure(f"{name}: content[0] is not the text of structuredContent")
        if self.validate:
            tool = self.tools.get(name)
            if tool is None:
                raise Failure(f"{name}: not in tools/list")
            schema = tool.get("outputSchema")
            if schema is None:
                raise Failure(f"{name}: no outputSchema")
            errs = schema_errors(sc, schema)
            if errs:
                raise Failure(f"{name}: structuredContent does not conform to outputSchema "
                              f"({VALIDATOR}):\n  " + "\n  ".join(errs[:10]) +
                              f"\nstructuredContent: {json.dumps(sc)[:2000]}")
            self.validated += 1
        return sc

    def send_call(self, name, arguments, id=None):
        return self.send_request("tools/call", {"name": name, "arguments": arguments}, id=id)

    def wait_call(self, name, rid, timeout=120):
        msg = self.wait_response(rid, timeout)
        if "error" in msg:
            raise Failure(f"tools/call {name} answered a JSON-RPC error: {msg['error']}")
        res = msg["result"]
        return self.check_result(name, res), bool(res.get("isError"))

    def call_any(self, name, arguments, timeout=120):
        """(structuredContent, isError)."""
        return self.wait_call(name, self.send_call(name, arguments), timeout)

    def call(self, name, arguments, timeout=120):
        """A call that must succeed (isError false): its structuredContent."""
        sc, is_error = self.call_any(name, arguments, timeout)
        if is_error:
            raise Failure(f"{name} {json.dumps(arguments)[:500]} failed: {json.dumps(sc)[:2000]}")
        return sc

    def call_error(self, name, arguments, timeout=120):
        """A call that must answer isError: the error text."""
        sc, is_error = self.call_any(name, arguments, timeout)
        if not is_error:
            raise Failure(f"{name} {json.dumps(arguments)[:500]} should answer isError, "
                          f"answered {json.dumps(sc)[:2000]}")
        return json.dumps(sc)

    # -- jobs -----------------------------------------------------------------
    def job(self, job_id, incremental=False):
        return self.call("py_job_status", {"job_id": job_id, "incremental": incremental})["job"]

    def wait_job(self, job_id, statuses=("completed", "failed", "cancelled"), timeout=120):
        last = {}

        def done():
            last["job"] = self.job(job_id)
            return last["job"]["status"] in statuses
        try:
            wait_until(done, timeout, f"job {job_id} to reach {statuses}", interval=0.1)
        except Failure as e:
            raise Failure(f"{e}; last state {json.dumps(last.get('job'))[:2000]}")
        return last["job"]
