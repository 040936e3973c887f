#!/usr/bin/python3
"""The host boundary, tried as a hostile client and hostile scripts would
(THREATS.md S5-S10): the real server over stdio, the real launcher, real
kernel features.  Every case first shows that its attack would work
without the defence (the negative control), then that the server refuses
it with a clear error, or ends the job with a named limit, and keeps
serving.  Exhaustion cases run inside small tmpfs mounts the case makes,
never on the machine's disk.

Usage: test_boundary.py --server PATH CASE     (CASE "list" prints the cases)
"""
import ctypes
import json
import re
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from mcp_client import Failure, proc_status_kb, wait_until  # noqa: E402
from test_server import RUN, check, contains, run_cases  # noqa: E402

SOURCE = os.path.abspath(os.path.join(HERE, "..", ".."))
DEPS = "py_run_script_with_dependencies"
BENCH = "py_benchmark_script"


def need_root():
    if os.geteuid() != 0:
        print("SKIP: this case needs root (tmpfs mounts, id-mapped workspaces); "
              "it did NOT run")
        sys.exit(77)


class Tmpfs:
    """A small tmpfs of the case's own, unmounted whatever happens."""

    def __init__(self, path, size, inodes=None):
        need_root()
        os.makedirs(path, exist_ok=True)
        opts = f"size={size}" + (f",nr_inodes={inodes}" if inodes else "")
        subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", path], check=True)
        os.chmod(path, 0o755)
        self.path = path

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        subprocess.run(["umount", "-l", self.path], check=False)


def launcher_of(server_bin):
    return os.path.join(os.path.dirname(os.path.dirname(server_bin)), "sandbox",
                        "python-mcp-sandbox")


def policy_with(env, name, **workspace):
    """policies/default.json with workspace keys changed, in the case's tree."""
    with open(os.path.join(SOURCE, "policies", "default.json")) as f:
        p = json.load(f)
    p["workspace"].update(workspace)
    path = os.path.join(env.base, name)
    with open(path, "w") as f:
        json.dump(p, f)
    shutil.copy(os.path.join(SOURCE, "policies", "install.json"),
                os.path.join(env.base, "install.json"))
    return path


# ---------------------------------------------------------------------------
# 1. What the server runs is never writable by a job.

def install_prefix(env, where):
    """An installed layout (bin/, share/python-mcp/policies/) under `where`,
    copied from the build: what `cmake --install` makes."""
    prefix = os.path.join(where, "prefix")
    os.makedirs(os.path.join(prefix, "bin"))
    os.makedirs(os.path.join(prefix, "share", "python-mcp", "policies"))
    shutil.copy2(env.bin, os.path.join(prefix, "bin", "python-mcp"))
    shutil.copy2(launcher_of(env.bin), os.path.join(prefix, "bin", "python-mcp-sandbox"))
    for p in ("default.json", "install.json"):
        shutil.copy(os.path.join(SOURCE, "policies", p),
                    os.path.join(prefix, "share", "python-mcp", "policies", p))
    for d, _, files in os.walk(prefix):
        os.chmod(d, 0o755)
    return prefix


def case_protected_install(env):
    """A client names the folder that holds the launcher (a build tree or
    an install prefix under a workspace root): refused, for every part of
    the install and the state directory.  A root server refuses to start
    when the scripts' host ids could change what it runs."""
    need_root()
    prefix = install_prefix(env, env.root)
    server = os.path.join(prefix, "bin", "python-mcp")
    launcher = os.path.join(prefix, "bin", "python-mcp-sandbox")
    # Negative control: a sibling directory laid out the same way is a
    # workspace like any other, and a job replaces a file in it at will.
    # Without the protection, bin/ would be the same.
    twin = os.path.join(env.root, "twin")
    os.makedirs(twin)
    shutil.copy2(launcher, os.path.join(twin, "python-mcp-sandbox"))
    s = env.server()
    s.call(RUN, {"directory": twin, "script_content":
                 "open('python-mcp-sandbox', 'wb').write(b'#!/bin/sh\\necho owned\\n')"})
    with open(os.path.join(twin, "python-mcp-sandbox"), "rb") as f:
        check(f.read().startswith(b"#!/bin/sh"), "control: a job rewrites a file in its workspace")
    s.stop()
    env.bin = server
    s = env.server(args=["--state-dir", os.path.join(env.root, "state")])
    before = open(launcher, "rb").read()
    for d, what in [(os.path.join(prefix, "bin"), "the launcher's folder"),
                    (prefix, "the install prefix"),
                    (os.path.join(prefix, "share", "python-mcp", "policies"), "the policies"),
                    (os.path.join(prefix, "share"), "a folder holding the policies"),
                    (os.path.join(env.root, "state"), "the state directory"),
                    (os.path.join(env.root, "state", "jobs"), "inside the state directory")]:
        err = s.call_error(RUN, {"directory": d, "script_content":
                                 "open('python-mcp-sandbox', 'wb').write(b'owned')"})
        contains(err, "which no job may reach", what)
        err = s.call_error(DEPS, {"script_path": os.path.join(d, "x.py")})
        contains(err, "which no job may reach", what + " (by script_path)")
    check(open(launcher, "rb").read() == before, "the launcher is unchanged")
    check(s.request("ping") == {}, "the server keeps serving")
    s.stop()
    # The launcher on its own refuses the same (admins run it directly).
    r = subprocess.run([launcher, "--policy", os.path.join(SOURCE, "policies", "default.json"),
                        "--workspace", os.path.join(prefix, "bin"), "--", "true"],
                       capture_output=True, text=True)
    check(r.returncode == 125, "the launcher refuses its own folder", r.stderr)
    contains(r.stderr, "which no job may reach", "the launcher's own message")
    # Writable by the scripts' host ids (65534 in the default policy): the
    # server refuses to start, naming what and why.
    for path, how in [(os.path.join(prefix, "bin"), "chown"),
                      (os.path.join(prefix, "share", "python-mcp", "policies", "default.json"),
                       "chmod")]:
        if how == "chown":
            os.chown(path, 65534, 65534)
        else:
            os.chmod(path, 0o666)
        s = env.server(start=False, args=["--state-dir", os.path.join(env.base, "state2")])
        s.start(initialize=False)
        rc = s.wait_exit(timeout=60)
        check(rc != 0, f"the server refuses to start when {path} is writable by the host ids")
        contains(s.stderr_tail(), "can be changed by the scripts' host ids", "startup refusal")
        if how == "chown":
            os.chown(path, 0, 0)
        else:
            os.chmod(path, 0o644)
    # And with the permissions back, it starts (the refusal was the cause).
    s = env.server(args=["--state-dir", os.path.join(env.base, "state2")])
    check(s.request("ping") == {}, "control: a sound install starts")
    s.stop()


# ---------------------------------------------------------------------------
# 2. A job swapping a directory for a symlink cannot redirect another job.

RENAME_LOOP = r"""
import ctypes, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
os.mkdir('sub')
os.symlink(sys.argv[1], 'lnk')
open('sub/inside', 'w').close()
AT_FDCWD, RENAME_EXCHANGE = -100, 2
end = time.monotonic() + float(sys.argv[2])
n = 0
while time.monotonic() < end:
    if libc.renameat2(AT_FDCWD, b'sub', AT_FDCWD, b'lnk', RENAME_EXCHANGE) == 0:
        n += 1
print('swaps', n)
"""


def case_workspace_swap(env):
    """Job A swaps A/sub (a directory) and A/lnk (a symlink to a directory
    outside the roots) in a loop; job B runs again and again with
    `directory: A/sub` and writes a marker where it runs.  The marker must
    only ever land in the real A/sub."""
    a_dir = os.path.join(env.root, "a")
    os.makedirs(a_dir)
    target = env.outside
    s = env.server(args=["--max-jobs", "3"])
    a = s.call(RUN, {"directory": a_dir, "script_content": RENAME_LOOP,
                     "args": [target, "15"], "async_mode": True})["job_id"]
    sub = os.path.join(a_dir, "sub")
    wait_until(lambda: os.path.lexists(os.path.join(a_dir, "lnk")), 60, "job A to start swapping")
    # Negative control: a check by name is fooled; resolving A/sub now and
    # then gives the outside directory.
    fooled = 0
    for _ in range(20000):
        try:
            fooled += os.path.realpath(sub) == os.path.realpath(target)
        except OSError:
            pass  # the swap raced the lookup itself
    check(fooled > 0, "control: realpath(A/sub) sometimes resolves outside the roots")
    ran = refused = 0
    for i in range(60):
        sc, is_error = s.call_any(RUN, {"directory": sub, "script_content":
                                        f"open('marker-{i}', 'w').write('b')"})
        if is_error:
            refused += 1
            text = json.dumps(sc)
            check(any(w in text for w in ("outside the workspace roots", "leaves the workspace",
                                          "Not a directory", "no longer the directory",
                                          "renamed", "symlink")),
                  "a refused run says why", text)
        else:
            ran += 1
    check(not any(n.startswith("marker-") for n in os.listdir(target)),
          "no marker outside the roots", os.listdir(target))
    s.wait_job(a, timeout=120)
    landed = [n for n in os.listdir(os.path.join(a_dir, "sub") if os.path.isdir(
        os.path.join(a_dir, "sub")) and not os.path.islink(os.path.join(a_dir, "sub"))
        else os.path.join(a_dir, "lnk")) if n.startswith("marker-")]
    check(ran > 0, "some runs still ran in the real directory", (ran, refused))
    check(len(landed) == ran, "every run that ran wrote into A/sub", (ran, len(landed)))
    print(f"{fooled} of 20000 name lookups fooled; {ran} runs in A/sub, {refused} refused")
    s.stop()


# ---------------------------------------------------------------------------
# 3. A FIFO where a file is expected never blocks the server.

def case_fifo(env):
    s = env.server()
    s.call(RUN, {"directory": env.ws, "script_content": "import os; os.mkfifo('main.py'); "
                 "os.mkfifo('.env')"})
    fifo = os.path.join(env.ws, "main.py")
    check(stat.S_ISFIFO(os.lstat(fifo).st_mode), "the job made a FIFO")
    # Negative control: reading it the plain way blocks until a writer comes.
    r = subprocess.run(["timeout", "2", "cat", fifo])
    check(r.returncode == 124, "control: a plain read of the FIFO blocks", r.returncode)
    for tool, args in [(RUN, {"directory": env.ws, "script_path": "main.py"}),
                       (RUN, {"directory": env.ws, "script_path": "main.py",
                              "auto_install_deps": False}),
                       (DEPS, {"script_path": fifo}),
                       (BENCH, {"script_path": fifo}),
                       (RUN, {"directory": env.ws, "script_content": "pass",
                              "env_file": ".env"})]:
        err = s.call_error(tool, args, timeout=30)
        contains(err, "is a FIFO", f"{tool} {args}")
        check(s.request("ping", timeout=10) == {}, "the server keeps serving")
    # A saved script's name that a FIFO took (the scripts folder is the
    # server's own; the read is the same kind anyway).
    s.stop()


# ---------------------------------------------------------------------------
# 4. Planted links never make the server read a host file.

def case_planted_links(env):
    secret_dir = os.path.join(env.outside, "private")
    os.makedirs(secret_dir, mode=0o700)
    secret_env = os.path.join(env.outside, "secret.env")
    with open(secret_env, "w") as f:
        f.write("STOLEN=top-secret-value\n")
    os.chmod(secret_env, 0o600)
    config = os.path.join(secret_dir, "config.yml")
    with open(config, "w") as f:
        f.write("password = 'top-secret-value'\n")
    s = env.server()
    s.call(RUN, {"directory": env.ws, "script_content":
                 f"import os; os.symlink({secret_env!r}, '.env'); "
                 f"os.symlink({config!r}, 'run.py'); os.symlink('../../..', 'up')"})
    # Negative control: the server's own privileges would read them.
    with open(os.path.join(env.ws, ".env")) as f:
        check("top-secret-value" in f.read(), "control: following .env reads the secret")
    with open(os.path.join(env.ws, "run.py")) as f:
        check("top-secret-value" in f.read(), "control: following run.py reads the secret")
    run_py = os.path.join(env.ws, "run.py")
    attempts = [
        (RUN, {"directory": env.ws, "script_content": "import os; print(os.environ)",
               "env_file": ".env"}),
        (RUN, {"directory": env.ws, "script_content": "pass",
               "env_file": "up/" + os.path.relpath(secret_env, "/")}),
        (RUN, {"directory": env.ws, "script_path": "run.py"}),
        (DEPS, {"script_path": run_py}),
        (BENCH, {"script_path": run_py}),
        (DEPS, {"script_path": run_py, "auto_parse_imports": False}),
    ]
    for tool, args in attempts:
        err = s.call_error(tool, args)
        check("top-secret-value" not in err, f"{tool}: the secret stays out", err)
        contains(err, "leads out of its directory", f"{tool} {args}")
    # Every tool takes the same path: none runs the target.
    listed = s.call("py_list_jobs", {"limit": 100})["jobs"]
    check(all("top-secret" not in json.dumps(j) for j in listed), "no job saw the secret")
    s.stop()
    # Control: the same tools take a sound file, relative paths included
    # (a script_path alone is taken from the server's working directory).
    env.write("ws/sub/ok.py", "print('sound')\n")
    s = env.server(cwd=env.ws)
    for tool, args in [(RUN, {"directory": env.ws, "script_path": "sub/ok.py"}),
                       (DEPS, {"script_path": "sub/ok.py"}),
                       (BENCH, {"script_path": os.path.join(env.ws, "sub", "ok.py")})]:
        check(s.call(tool, args)["stdout"] == "sound\n", f"control: {tool} runs {args}")
    s.stop()


# ---------------------------------------------------------------------------
# 6. Exhaustion: stored output, workspaces, memory, the queue.

def case_state_cap(env):
    """--max-state-bytes: old output goes, the newest job keeps its own,
    a running job past the cap is cut with a note, jobs.json stays whole."""
    with Tmpfs(os.path.join(env.base, "statefs"), "48m") as fs:
        # Negative control: the filesystem is small and fills for real.
        try:
            with open(os.path.join(fs.path, "fill"), "wb") as f:
                f.write(b"x" * (64 << 20))
            filled = False
        except OSError as e:
            filled = e.errno == 28
        os.unlink(os.path.join(fs.path, "fill"))
        check(filled, "control: 64 MiB do not fit in the state filesystem")
        state = os.path.join(fs.path, "state")
        s = env.server(args=["--state-dir", state, "--max-state-bytes", str(8 << 20)])
        ids = []
        for i in range(6):
            sc = s.call(RUN, {"directory": env.ws, "script_content":
                              f"import sys; sys.stdout.write('{i}' * (3 << 20))"})
            check(sc["stdout"].startswith(str(i)), f"job {i} answers with its output")
            ids.append(s.call("py_list_jobs", {"limit": 1})["jobs"][0]["id"])
        stored = sum(os.path.getsize(os.path.join(dp, f))
                     for dp, _, fs_ in os.walk(os.path.join(state, "jobs")) for f in fs_)
        check(stored <= 8 << 20, "stored output stays under the cap", stored)
        first = s.job(ids[0])
        contains(first["result"]["stdout"], "--max-state-bytes", "an evicted job says why")
        last = s.job(ids[-1])
        check(last["partial_stdout"].startswith("5" * 1000), "the newest job keeps its output")
        # One job alone past the cap: cut, with a note, never silently.
        sc = s.call(RUN, {"directory": env.ws, "script_content":
                          "import sys; sys.stdout.write('z' * (12 << 20))"})
        contains(sc["stdout"], "--max-state-bytes", "a cut job says so")
        check(s.request("ping") == {}, "the server keeps serving")
        s.stop()
        with open(os.path.join(state, "meta", "jobs.json")) as f:
            check(len(json.load(f)) == 7, "jobs.json is whole")
        # A second server reads it back.
        s = env.server(args=["--state-dir", state, "--max-state-bytes", str(8 << 20)])
        contains(s.job(ids[0])["result"]["stdout"], "--max-state-bytes", "after a restart")
        s.stop()


def case_workspace_limits(env):
    """workspace.max_bytes/max_inodes: a scratch workspace is a tmpfs of
    that size (ENOSPC from the kernel); a client's directory is watched
    and the job ends with limit "disk"."""
    need_root()
    limited = policy_with(env, "limited.json", max_bytes=8 << 20, max_inodes=500)
    unlimited = policy_with(env, "unlimited.json", max_bytes=None, max_inodes=None)
    fill = ("import os, time\n"
            "with open('big', 'wb') as f: os.posix_fallocate(f.fileno(), 0, 32 << 20)\n"
            "print('filled'); time.sleep(3); print('still running')\n")
    files = ("import time\n"
             "for i in range(3000): open(f'f{i}', 'w').close()\n"
             "print('made'); time.sleep(3); print('still running')\n")
    with Tmpfs(os.path.join(env.root, "wsfs"), "64m") as fs:
        ws = os.path.join(fs.path, "ws")
        os.makedirs(ws)
        # Negative control: without the limits the same jobs run through.
        s = env.server(args=["--policy", unlimited])
        sc = s.call(RUN, {"directory": ws, "script_content": fill})
        check("still running" in sc["stdout"] and sc["limit"] is None,
              "control: 32 MiB written without a limit", sc)
        os.unlink(os.path.join(ws, "big"))
        sc = s.call(RUN, {"directory": ws, "script_content": files})
        check("still running" in sc["stdout"], "control: 3000 files without a limit", sc)
        for n in os.listdir(ws):
            os.unlink(os.path.join(ws, n))
        s.stop()
        s = env.server(args=["--policy", limited])
        sc = s.call(RUN, {"directory": ws, "script_content": fill})
        check(sc["limit"] == "disk" and "still running" not in sc["stdout"],
              "a host workspace past max_bytes ends with limit disk", sc)
        contains(sc["stderr"], "workspace.max_bytes", "the message names the limit")
        os.unlink(os.path.join(ws, "big"))
        sc = s.call(RUN, {"directory": ws, "script_content": files})
        check(sc["limit"] == "disk", "past max_inodes: limit disk", sc)
        contains(sc["stderr"], "workspace.max_inodes", "the message names the limit")
        # Without a directory: a tmpfs of exactly that size, inside.
        sc = s.call(DEPS, {"auto_parse_imports": False, "script_content":
                           "import os\n"
                          "print(os.getcwd())\n"
                          "try:\n"
                          "    with open('big', 'wb') as f: os.posix_fallocate(f.fileno(), 0, 32 << 20)\n"
                          "except OSError as e: print('refused', e.errno)\n"
                          "n = 0\n"
                          "try:\n"
                          "    while n < 5000: open(f'f{n}', 'w').close(); n += 1\n"
                           "except OSError as e: print('files', n, e.errno)\n"})
        check("/workspace" in sc["stdout"] and "refused 28" in sc["stdout"],
              "a scratch workspace refuses bytes past its size", sc)
        made = re.search(r"files (\d+) 28", sc["stdout"])
        check(made and int(made.group(1)) <= 500,
              "a scratch workspace refuses files past its inodes", sc)
        check(s.request("ping") == {}, "the server keeps serving")
        s.stop()


def case_results_flat(env):
    """Results are not kept in memory or jobs.json: 150 jobs of 256 KiB of
    control bytes each leave both small, and every result is still read
    back whole on demand."""
    asan = os.environ.get("ASAN_OPTIONS", "")
    s = env.server(env={"ASAN_OPTIONS": (asan + ":" if asan else "") +
                        "quarantine_size_mb=8:malloc_context_size=4"},
                   args=["--max-jobs", "2"])
    hostile = "import sys; sys.stdout.write(''.join(chr(i % 32) for i in range(262144)))"
    warm = [s.call(RUN, {"directory": env.ws, "script_content": hostile, "async_mode": True})
            for _ in range(10)]
    for w in warm:
        s.wait_job(w["job_id"])
    rss0 = proc_status_kb(s.pid, "VmRSS")
    ids = []
    for batch in range(15):
        started = [s.call(RUN, {"directory": env.ws, "script_content": hostile,
                                "async_mode": True})["job_id"] for _ in range(10)]
        for jid in started:
            s.wait_job(jid, timeout=300)
        ids += started
    rss1 = proc_status_kb(s.pid, "VmRSS")
    s.stop()
    size = os.path.getsize(os.path.join(env.state, "meta", "jobs.json"))
    # Negative control: the output exists, 256 KiB a job, on disk.
    out = os.path.join(env.state, "jobs", ids[0], "stdout")
    check(os.path.getsize(out) == 262144, "control: each job wrote 256 KiB",
          os.path.getsize(out))
    print(f"jobs.json {size} bytes for 160 jobs; RSS {rss0} -> {rss1} KiB")
    check(size < 160 * 4096, "jobs.json holds no output", size)
    check(rss1 - rss0 < 16 * 1024, "RSS does not grow with stored output", (rss0, rss1))
    s = env.server()
    r = s.job(ids[3])["result"]
    check(len(r["stdout"]) >= 262144 and r["exit_code"] == 0,
          "a result read after a restart holds the output", len(r["stdout"]))
    s.stop()


def case_pending_cap(env):
    s = env.server(args=["--max-jobs", "1", "--max-pending", "3"])
    slow = {"directory": env.ws, "script_content": "import time; time.sleep(300)",
            "async_mode": True}
    ids = [s.call(RUN, slow)["job_id"]]
    s.wait_job(ids[0], statuses=("running",))
    ids += [s.call(RUN, slow)["job_id"] for _ in range(3)]
    err = s.call_error(RUN, slow)
    contains(err, "--max-pending", "the fourth pending job is refused")
    contains(err, "py_cancel_job", "the refusal says what to do")
    check(s.request("ping") == {}, "the server keeps serving")
    s.call("py_cancel_job", {"job_id": ids[1]})
    ids.append(s.call(RUN, slow)["job_id"])  # room again: accepted
    for jid in ids:
        s.call_any("py_cancel_job", {"job_id": jid})
    s.stop()
    # Negative control: with room in the queue the same request is taken.
    s = env.server(args=["--max-jobs", "1", "--max-pending", "100"])
    ids = [s.call(RUN, slow)["job_id"] for _ in range(6)]
    for jid in ids:
        s.call_any("py_cancel_job", {"job_id": jid})
    s.stop()


# ---------------------------------------------------------------------------
# 7. Every request gets an answer with its id.

def case_request_ids(env):
    s = env.server(args=["--max-request-bytes", str(1 << 20), "--max-json-depth", "16"])
    cases = [
        (b'{"jsonrpc":"2.0","id":41,"method":"ping","params":{"_meta":{"a":' + b"[" * 40 +
         b"]" * 40 + b"}}}\n", 41, "too deep"),
        (b'{"method":"tools/call","params":{"name":"x","arguments":{"s":"' + b"x" * (5 << 20) +
         b'"}},"jsonrpc":"2.0","id":"long-one"}\n', "long-one", "5 MiB, id last"),
        (b'{"jsonrpc":"2.0","id":43,"method":"ping","params":{"s":"a\\u0000b"}}\n', 43,
         "a NUL in a string"),
        (b'{"jsonrpc":"2.0","id":44,"method":"pi\xffng"}\n', 44, "bad UTF-8"),
        (b'{"jsonrpc":"2.0","id":45,"method":"ping"\n', 45, "cut short"),
    ]
    for data, rid, what in cases:
        s.send_raw(data)
        msg = s.wait_response(rid, timeout=60)
        check("error" in msg, f"{what}: an error answer", msg)
    # Control: the same id on a sound request gets its result.
    s.send_raw(b'{"jsonrpc":"2.0","id":46,"method":"ping"}\n')
    check(s.wait_response(46, timeout=30).get("result") == {}, "control: a sound request")
    # An id that cannot be read: the null-id error, and the server goes on.
    n = len(s.orphans)
    s.send_raw(b'{"jsonrpc":"2.0","method":"ping","id":\xff}\n')
    wait_until(lambda: len(s.orphans) > n, 30, "the null-id error")
    check(s.request("ping") == {}, "the server keeps serving")
    s.stop()


CASES = {name[5:]: fn for name, fn in sorted(globals().items()) if name.startswith("case_")}

if __name__ == "__main__":
    sys.exit(run_cases(CASES))
