#!/usr/bin/python3
"""End-to-end tests of dependency environments: the real server over stdio,
the real launcher, pip installing wheels this test builds itself (there is
no PyPI here) from a local directory or a local HTTP index.

Usage: test_deps.py --server PATH CASE     (CASE "list" prints the cases)
"""
import base64
import functools
import hashlib
import http.server
import json
import os
import sys
import threading
import time
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "server"))
sys.path.insert(0, os.path.join(HERE, "..", "net"))
from mcp_client import cmdline, wait_until  # noqa: E402
from test_server import check, contains, run_cases  # noqa: E402
from test_usernet import Remote, TokenServer, primary_v4  # noqa: E402

DEPS = "py_run_script_with_dependencies"
TARGET = "/opt/python-mcp/env"


def build_wheel(dist_dir, name, version, module, code):
    """A pure-Python wheel made as pip would (zip, dist-info, RECORD)."""
    files = {f"{module}/__init__.py": code.encode(),
             f"{name}-{version}.dist-info/METADATA":
                 f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
             f"{name}-{version}.dist-info/WHEEL":
                 b"Wheel-Version: 1.0\nGenerator: test_deps\nRoot-Is-Purelib: true\n"
                 b"Tag: py3-none-any\n"}
    record = []
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    record.append(f"{name}-{version}.dist-info/RECORD,,")
    files[f"{name}-{version}.dist-info/RECORD"] = ("\n".join(record) + "\n").encode()
    os.makedirs(dist_dir, exist_ok=True)
    path = os.path.join(dist_dir, f"{name}-{version}-py3-none-any.whl")
    with zipfile.ZipFile(path, "w") as z:
        for p, data in files.items():
            z.writestr(p, data)
    return path


BACKEND = """
import os, zipfile, base64, hashlib
def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    # Hostile install code: plant a link where the server writes its
    # manifest, and a FIFO beside it.
    env = "/opt/python-mcp/env"
    os.symlink(VICTIM, env + "/.python-mcp-env.json")
    open(env + "/backend-ran", "w").close()
    # A tree deeper than PATH_MAX, a FIFO and a link out: what the server
    # must still remove without following or blocking.
    here = os.getcwd()
    os.chdir(env)
    for _ in range(800):
        os.mkdir("deepdeepdeep")
        os.chdir("deepdeepdeep")
    os.mkfifo("fifo")
    os.symlink("/", "root-link")
    os.chdir(here)
    name = "evilpkg-1.0-py3-none-any.whl"
    files = {"evilpkg/__init__.py": b"EVIL = 1\\n",
             "evilpkg-1.0.dist-info/METADATA": b"Metadata-Version: 2.1\\nName: evilpkg\\nVersion: 1.0\\n",
             "evilpkg-1.0.dist-info/WHEEL": b"Wheel-Version: 1.0\\nGenerator: x\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"}
    rec = []
    for p, d in files.items():
        h = base64.urlsafe_b64encode(hashlib.sha256(d).digest()).rstrip(b"=").decode()
        rec.append(f"{p},sha256={h},{len(d)}")
    rec.append("evilpkg-1.0.dist-info/RECORD,,")
    files["evilpkg-1.0.dist-info/RECORD"] = ("\\n".join(rec) + "\\n").encode()
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w") as z:
        for p, d in files.items():
            z.writestr(p, d)
    return name
"""


def build_hostile_sdist(dist_dir, victim):
    """An sdist whose in-tree build backend (run by pip in the install
    sandbox) plants a symlink to `victim` where the manifest goes."""
    import io
    import tarfile
    files = {"evilpkg-1.0/pyproject.toml":
             '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n'
             '[project]\nname = "evilpkg"\nversion = "1.0"\n',
             "evilpkg-1.0/PKG-INFO": "Metadata-Version: 2.1\nName: evilpkg\nVersion: 1.0\n",
             "evilpkg-1.0/backend.py": f"VICTIM = {victim!r}\n" + BACKEND}
    os.makedirs(dist_dir, exist_ok=True)
    path = os.path.join(dist_dir, "evilpkg-1.0.tar.gz")
    with tarfile.open(path, "w:gz") as t:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    return path


# Hostile build code: the in-tree backend connects, while pip builds the
# wheel, to each target, and ships what came back in the package.
NETPROBE_BACKEND = """
import base64, hashlib, json, os, socket, zipfile
def probe(host, port):
    s = socket.socket()
    s.settimeout(5)
    try:
        s.connect((host, port))
        return s.recv(200).decode(errors="replace")
    except OSError as e:
        return "error: %s" % e
def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    results = {k: probe(h, p) for k, (h, p) in TARGETS.items()}
    dist = NAME + "-1.0.dist-info"
    meta = "Metadata-Version: 2.1\\nName: %s\\nVersion: 1.0\\n" % NAME
    tags = "Wheel-Version: 1.0\\nGenerator: x\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"
    files = {NAME + "/__init__.py": ("RESULTS = %r\\n" % results).encode(),
             dist + "/METADATA": meta.encode(), dist + "/WHEEL": tags.encode()}
    rec = []
    for p, d in files.items():
        h = base64.urlsafe_b64encode(hashlib.sha256(d).digest()).rstrip(b"=").decode()
        rec.append("%s,sha256=%s,%d" % (p, h, len(d)))
    rec.append(dist + "/RECORD,,")
    files[dist + "/RECORD"] = ("\\n".join(rec) + "\\n").encode()
    wheel = NAME + "-1.0-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, wheel), "w") as z:
        for p, d in files.items():
            z.writestr(p, d)
    return wheel
"""


def build_probe_sdist(dist_dir, name, targets):
    """An sdist whose build code probes `targets` ({label: [host, port]})."""
    import io
    import tarfile
    files = {f"{name}-1.0/pyproject.toml":
             '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n'
             f'[project]\nname = "{name}"\nversion = "1.0"\n',
             f"{name}-1.0/PKG-INFO": f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n",
             f"{name}-1.0/backend.py":
                 f"NAME = {name!r}\nTARGETS = {targets!r}\n" + NETPROBE_BACKEND}
    os.makedirs(dist_dir, exist_ok=True)
    with tarfile.open(os.path.join(dist_dir, f"{name}-1.0.tar.gz"), "w:gz") as t:
        for path, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(path)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))


def host_network_policy(env):
    """The negative control: install.json as it was, with the host's network."""
    with open(os.path.join(HERE, "..", "..", "policies", "install.json")) as f:
        policy = json.load(f)
    policy["network"] = True
    path = os.path.join(env.base, "install-host-network.json")
    with open(path, "w") as f:
        json.dump(policy, f)
    return path


def need_root(what):
    if os.geteuid() != 0:
        print(f"CANNOT TEST {what} ON THIS MACHINE: needs root (network namespaces, veth)")
        sys.exit(77)


class Deps:
    """An Env with a wheel directory and a server whose pip sees only it."""

    def __init__(self, env):
        self.env = env
        self.wheels = os.path.join(env.base, "wheels")
        build_wheel(self.wheels, "tinypkg", "1.0", "tinypkg", "VALUE = 42\n")
        build_wheel(self.wheels, "otherpkg", "2.0", "otherpkg", "NAME = 'other'\n")
        self.envs_dir = os.path.join(env.state, "envs")

    def server(self, extra_env=None, args=()):
        e = {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": self.wheels}
        e.update(extra_env or {})
        return self.env.server(env=e, args=list(args))

    def simple_index(self):
        """A PEP 503 index of tinypkg in a directory, for an HTTP server."""
        index = os.path.join(self.env.base, "index")
        os.makedirs(os.path.join(index, "simple", "tinypkg"))
        wheel = "tinypkg-1.0-py3-none-any.whl"
        os.link(os.path.join(self.wheels, wheel), os.path.join(index, wheel))
        with open(os.path.join(index, "simple", "tinypkg", "index.html"), "w") as f:
            f.write(f'<html><body><a href="../../{wheel}">{wheel}</a></body></html>\n')
        return index

    def env_names(self):
        if not os.path.isdir(self.envs_dir):
            return []
        return sorted(n for n in os.listdir(self.envs_dir) if not n.startswith("."))

    def leftovers(self):
        if not os.path.isdir(self.envs_dir):
            return []
        return sorted(n for n in os.listdir(self.envs_dir) if n.startswith(".build-"))


def server_log(s):
    return s.stderr_tail(1 << 20)


# ---------------------------------------------------------------------------

def case_install_and_reuse(env):
    d = Deps(env)
    s = d.server()
    code = ("import sys, tinypkg\nprint(tinypkg.VALUE, sys.prefix)\n"
            "try:\n    open(sys.prefix + '/x', 'w')\nexcept OSError as e:\n"
            "    print('readonly', e.errno)\n")
    r = s.call(DEPS, {"script_content": code, "dependencies": ["TinyPkg"],
                      "auto_parse_imports": False})
    check(r["exit_code"] == 0, "the script ran", r)
    check(r["stdout"].split("\n")[0] == f"42 {TARGET}", "imports the package from the env", r)
    check("readonly 30" in r["stdout"], "the environment is read-only in the run (EROFS)", r)
    check(r["execution_strategy"] == "venv-pip", "execution_strategy venv-pip (no uv here)", r)
    check(r["resolved_dependencies"] == ["tinypkg"], "normalized resolved_dependencies", r)
    check(r["environment"]["reused"] is False, "first run builds", r)
    first = r["environment"]["name"]
    check(d.env_names() == [first], "one environment on disk", d.env_names())
    # Another spelling of the same set: the same environment, reused.
    for spelling in (["tinypkg"], ["tiny_pkg".replace("_", "") + " "], ["TINYPKG"]):
        r = s.call(DEPS, {"script_content": "import tinypkg; print(tinypkg.VALUE)",
                          "dependencies": spelling, "auto_parse_imports": False})
        check(r["stdout"] == "42\n" and r["environment"]["reused"] is True
              and r["environment"]["name"] == first, f"{spelling} reuses the environment", r)
    check(server_log(s).count("built with pip") == 1, "built exactly once", server_log(s)[-2000:])
    # The benchmark tool takes dependencies too.
    r = s.call("py_benchmark_script", {"script_content": "import tinypkg",
                                       "dependencies": ["tinypkg"]})
    check(r["exit_code"] == 0 and r["environment"]["reused"] and r["peak_rss_mb"] > 0,
          "benchmark with dependencies", r)
    # A restarted server finds it on disk.
    s.stop()
    s = d.server()
    r = s.call(DEPS, {"script_content": "import tinypkg", "dependencies": ["tinypkg"]})
    check(r["environment"] == {"name": first, "reused": True, "installer": "pip"},
          "reused after a restart", r)
    check(d.leftovers() == [], "no half-built environment left", d.leftovers())
    s.stop()


def case_concurrent_builds(env):
    d = Deps(env)
    s = d.server(args=["--max-jobs", "8"])
    ids = []
    for i in range(6):
        sc = s.call(DEPS, {"script_content": f"import otherpkg, tinypkg; print({i}, otherpkg.NAME)",
                           "dependencies": ["otherpkg", "tinypkg"], "async_mode": True})
        ids.append(sc["job_id"])
    results = {}

    def done():
        for jid in ids:
            if jid not in results:
                st = s.call("py_job_status", {"job_id": jid})["job"]
                if st["status"] in ("completed", "failed", "cancelled"):
                    results[jid] = st
        return len(results) == len(ids)
    wait_until(done, 120, "every job ends")
    for i, jid in enumerate(ids):
        st = results[jid]
        check(st["status"] == "completed", f"job {i} completed", st)
        check(st["result"]["stdout"] == f"{i} other\n", f"job {i} output", st)
    names = {results[j]["result"]["environment"]["name"] for j in ids}
    check(len(names) == 1, "one environment for all", names)
    check(server_log(s).count("built with pip") == 1, "one build for six concurrent requests",
          server_log(s)[-3000:])
    check(sum(not results[j]["result"]["environment"]["reused"] for j in ids) == 6,
          "every waiter of the build reports a fresh build", [results[j]["result"] for j in ids])
    check(d.env_names() == sorted(names) and d.leftovers() == [], "one env, no leftovers",
          (d.env_names(), d.leftovers()))
    s.stop()


def case_auto_detect(env):
    d = Deps(env)
    s = d.server()
    env.write("ws/helper.py", "X = 1\n")
    code = ("import os, json, asyncio\nimport helper\nimport pip\nimport tinypkg\n"
            "print(tinypkg.VALUE, helper.X)\n")
    # The standard library (from the interpreter), the system's installed
    # pip (python3-pip, which scripts/lib.sh installs) and the workspace's
    # own helper are not installed; tinypkg is.
    main = env.write("ws/main.py", code)
    r = s.call(DEPS, {"script_path": main, "dependencies": []})
    check(r["exit_code"] == 0 and r["stdout"] == "42 1\n", "runs with the detected package", r)
    check(r["resolved_dependencies"] == ["tinypkg"], "only tinypkg detected", r)
    # py_run_script_in_dir installs detected imports too (auto_install_deps).
    r = s.call("py_run_script_in_dir", {"directory": env.ws, "script_path": "main.py"})
    check(r["exit_code"] == 0 and r["execution_strategy"] == "venv-pip"
          and r["environment"]["reused"], "run_in_dir reuses it", r)
    r = s.call("py_run_script_in_dir", {"directory": env.ws, "script_path": "main.py",
                                        "auto_install_deps": False})
    check(r["execution_strategy"] == "system-python" and "ModuleNotFoundError" in r["stderr"],
          "auto_install_deps=false installs nothing", r)
    # A detected import that cannot be installed is a guess, not an order:
    # the script runs without it and the result says why.
    code = "try:\n    import no_such_module_zz\nexcept ImportError:\n    print('fallback')\n"
    r = s.call(DEPS, {"script_content": code})
    check(r["exit_code"] == 0 and r["stdout"] == "fallback\n", "runs without the guess", r)
    check(r["execution_strategy"] == "system-python" and r["resolved_dependencies"] == [],
          "system python", r)
    contains(" ".join(r.get("dependency_warnings", [])), "no-such-module-zz",
             "the warning names the package")
    # The failed guess is remembered: the next run does not pay pip again.
    r = s.call(DEPS, {"script_content": code})
    check(r["stdout"] == "fallback\n", "runs again", r)
    contains(" ".join(r.get("dependency_warnings", [])), "remembered from an install",
             "a remembered failure, not a second install")
    check(server_log(s).count("No matching distribution found for no-such-module-zz") == 1,
          "pip ran once for the guess",
          server_log(s)[-2000:])
    # Asked for explicitly, it is installed (and fails) again at once.
    err = s.call_error(DEPS, {"script_content": "print(1)", "dependencies": ["no_such_module_zz"]})
    contains(err, "No matching distribution found for no-such-module-zz", "explicit retries")
    # auto_parse_imports=false: nothing detected.
    r = s.call(DEPS, {"script_content": "import tinypkg", "auto_parse_imports": False})
    check(r["exit_code"] != 0 and "ModuleNotFoundError" in r["stderr"], "no detection", r)
    s.stop()


def case_missing_package(env):
    d = Deps(env)
    s = d.server()
    err = s.call_error(DEPS, {"script_content": "print(1)",
                              "dependencies": ["tinypkg", "nosuchpkg==1.0"]})
    contains(err, "nosuchpkg==1.0", "names the package")
    contains(err, "No matching distribution found", "carries pip's reason")
    err = s.call_error(DEPS, {"script_content": "print(1)", "dependencies": ["tinypkg==9.9"]})
    contains(err, "tinypkg==9.9", "names the version asked for")
    contains(err, "from versions: 1.0", "pip's reason lists what exists")
    for bad, needle in ((["--index-url=http://evil"], "package name"),
                        (["./dir"], "package name"), ([1], "item 0"),
                        (["file:///etc/x.whl"], "follows the name"),
                        (["pkg/../../x"], "follows the name"),
                        (["a\nb"], "control")):
        err = s.call_error(DEPS, {"script_content": "print(1)", "dependencies": bad})
        contains(err, needle, f"{bad!r} refused")
    check(d.env_names() == [] and d.leftovers() == [], "failed builds leave nothing",
          (d.env_names(), d.leftovers()))
    s.stop()


def case_saved_script_pep723(env):
    d = Deps(env)
    s = d.server()
    r = s.call("py_save_script", {"script_name": "uses_tiny", "source":
                                  "import tinypkg\nprint('saved', tinypkg.VALUE)\n",
                                  "dependencies": ["tinypkg>=1"], "requires_python": ">=3.8"})
    check(r["written"] == "true", "saved", r)
    r = s.call("py_run_saved_script", {"script_name": "uses_tiny"})
    check(r["stdout"] == "saved 42\n" and r["execution_strategy"] == "venv-pip",
          "the header's dependencies are installed", r)
    r2 = s.call("py_run_saved_script", {"script_name": "uses_tiny"})
    check(r2["environment"]["reused"] and r2["environment"]["name"] == r["environment"]["name"],
          "and cached", r2)
    # requires-python no installed interpreter satisfies: a clear error.
    s.call("py_save_script", {"script_name": "future", "source": "print(1)\n",
                              "requires_python": ">=3.99"})
    err = s.call_error("py_run_saved_script", {"script_name": "future"})
    contains(err, ">=3.99", "names the requirement")
    contains(err, "installed:", "lists the installed interpreters")
    # No header: imports are detected (auto_install_deps), unless told not to.
    s.call("py_save_script", {"script_name": "plain", "source": "import otherpkg\nprint(otherpkg.NAME)\n"})
    r = s.call("py_run_saved_script", {"script_name": "plain"})
    check(r["stdout"] == "other\n", "detected and installed", r)
    r = s.call("py_run_saved_script", {"script_name": "plain", "auto_install_deps": False})
    check("ModuleNotFoundError" in r["stderr"], "auto_install_deps=false", r)
    # A malformed header: py_list_scripts says so, running it says why.
    bad = os.path.join(env.state, "scripts", "broken.py")
    with open(bad, "w") as f:
        f.write("# /// script\n# dependencies = [\"unterminated\n# ///\nprint(1)\n")
    listed = s.call("py_list_scripts", {})
    items = listed if isinstance(listed, list) else listed.get("scripts", listed.get("result", []))
    broken = [x for x in items if x["name"] == "broken.py"]
    check(broken and broken[0].get("parse_error") is True, "py_list_scripts reports parse_error",
          listed)
    err = s.call_error("py_run_saved_script", {"script_name": "broken"})
    contains(err, "header", "running it names the header")
    s.stop()


def case_hostile_install(env):
    """Install code may write anything into the environment being built
    (it runs in the install sandbox with that directory writable), a link
    where the manifest goes included: the server never follows it."""
    d = Deps(env)
    victim = os.path.join(env.outside, "victim.txt")
    with open(victim, "w") as f:
        f.write("host file")
    build_hostile_sdist(d.wheels, victim)
    s = d.server()
    r = s.call(DEPS, {"script_content": "import evilpkg; print(evilpkg.EVIL)",
                      "dependencies": ["evilpkg"]})
    check(r["stdout"] == "1\n", "the package installed and ran", r)
    with open(victim) as f:
        check(f.read() == "host file", "the host file behind the planted link is untouched")
    manifest = os.path.join(d.envs_dir, r["environment"]["name"], ".python-mcp-env.json")
    check(os.path.isfile(manifest) and not os.path.islink(manifest), "the manifest is a file")
    check(os.path.exists(os.path.join(os.path.dirname(manifest), "backend-ran")),
          "the hostile backend ran (it planted the link)")
    r = s.call(DEPS, {"script_content": "import evilpkg", "dependencies": ["evilpkg"]})
    check(r["environment"]["reused"], "and the environment is reused", r)
    with open(victim) as f:
        check(f.read() == "host file", "using it touched nothing either")
    # Pruned, it goes entirely (on a worker thread), deep tree included.
    old = time.time() - 7200
    os.utime(manifest, (old, old))
    r = s.call("py_prune_jobs", {"max_age_hours": 1})
    check(r["removed_environments"] == 1, "pruned", r)
    wait_until(lambda: os.listdir(d.envs_dir) == [], 60, "every trace removed")
    check(os.path.exists(victim) and os.path.exists("/etc/passwd"), "links were not followed")
    s.stop()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    requests = []

    def log_message(self, fmt, *args):
        _Quiet.requests.append(self.path)


def case_network_install_not_run(env):
    """The install step reaches an index over the network (install.json
    allows it); the script's run step has no network (default.json)."""
    d = Deps(env)
    index = d.simple_index()
    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Quiet, directory=index))
    port = httpd.server_address[1]
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        s = env.server(env={"PIP_INDEX_URL": f"http://127.0.0.1:{port}/simple"})
        code = ("import socket, tinypkg\ns = socket.socket()\ns.settimeout(5)\n"
                f"try:\n    s.connect(('127.0.0.1', {port}))\n    print('connected')\n"
                "except OSError as e:\n    print('no network', e.errno)\n")
        r = s.call(DEPS, {"script_content": code, "dependencies": ["tinypkg"]})
        check(any("tinypkg" in p for p in _Quiet.requests), "pip fetched from the HTTP index",
              _Quiet.requests)
        check(r["exit_code"] == 0 and r["stdout"].startswith("no network"),
              "the script cannot reach the index the install used", r)
        # Negative control: the same connection from outside the sandbox works.
        import socket
        c = socket.create_connection(("127.0.0.1", port), timeout=5)
        c.close()
        s.stop()
    finally:
        httpd.shutdown()


def case_cap_and_prune(env):
    d = Deps(env)
    s = d.server(args=["--max-envs", "1"])
    a = s.call(DEPS, {"script_content": "import tinypkg", "dependencies": ["tinypkg"]})
    check(d.env_names() == [a["environment"]["name"]], "first environment", d.env_names())
    b = s.call(DEPS, {"script_content": "import otherpkg", "dependencies": ["otherpkg"]})
    check(d.env_names() == [b["environment"]["name"]],
          "beyond --max-envs 1 the least recently used goes", d.env_names())
    a2 = s.call(DEPS, {"script_content": "import tinypkg", "dependencies": ["tinypkg"]})
    check(a2["environment"]["reused"] is False, "an evicted environment is rebuilt", a2)
    r = s.call("py_prune_jobs", {"max_age_hours": 1})
    check(r["removed_environments"] == 0 and len(d.env_names()) == 1,
          "recently used environments stay", r)
    # Age the environment, then prune it with the jobs.
    name = d.env_names()[0]
    manifest = os.path.join(d.envs_dir, name, ".python-mcp-env.json")
    old = time.time() - 7200
    os.utime(manifest, (old, old))
    r = s.call("py_prune_jobs", {"max_age_hours": 1})
    check(r["removed_environments"] == 1 and d.env_names() == [], "pruned", (r, d.env_names()))
    s.stop()


def case_cancel_during_install(env):
    d = Deps(env)
    # A wheel directory that answers slowly: a FIFO named like a wheel makes
    # pip block while the job is installing.
    slow = os.path.join(env.base, "slow")
    os.makedirs(slow)
    os.mkfifo(os.path.join(slow, "slowpkg-1.0-py3-none-any.whl"))
    s = d.server(extra_env={"PIP_FIND_LINKS": f"{slow} {d.wheels}"})
    sc = s.call(DEPS, {"script_content": "print(1)", "dependencies": ["slowpkg"],
                       "async_mode": True})
    wait_until(lambda: d.leftovers() != [], 60, "the install starts")
    time.sleep(1)
    st = s.call("py_job_status", {"job_id": sc["job_id"]})["job"]
    check(st["status"] == "pending" and "installing dependencies: `slowpkg`"
          in (st.get("progress") or {}).get("message", ""),
          "py_job_status says the job waits for its install", st)
    r = s.call("py_cancel_job", {"job_id": sc["job_id"]})
    st = s.call("py_job_status", {"job_id": sc["job_id"]})["job"]
    check(st["status"] == "cancelled", "the job is cancelled", (r, st))
    wait_until(lambda: d.leftovers() == [], 60, "the abandoned build is removed")
    check(d.env_names() == [], "no environment", d.env_names())
    # The server goes on serving.
    r = s.call(DEPS, {"script_content": "import tinypkg; print('ok')", "dependencies": ["tinypkg"]},)
    check(r["stdout"] == "ok\n", "still serves", r)
    s.stop()


def case_install_cannot_start(env):
    """An install whose sandbox cannot even start (its launcher is gone)
    fails the call, naming the packages and why, and the server goes on."""
    import shutil
    d = Deps(env)
    launcher = os.path.join(env.base, "python-mcp-sandbox")
    shutil.copy2(os.path.join(os.path.dirname(env.bin), "..", "sandbox", "python-mcp-sandbox"),
                 launcher)
    s = d.server(args=["--launcher", launcher, "--prepared", "2"])
    r = s.call("py_run_script_in_dir", {"directory": env.ws, "script_content": "print(1)"})
    check(r["stdout"] == "1\n", "a first run", r)
    wait_until(lambda: len([p for p in os.listdir("/proc") if p.isdigit()
                            and cmdline(p).startswith(launcher)]) >= 2, 30,
               "two prepared launchers are ready")
    os.unlink(launcher)
    err = s.call_error(DEPS, {"script_content": "import tinypkg", "dependencies": ["tinypkg"]})
    contains(err, "`tinypkg`", "names the package")
    contains(err, "did not start", "says the install sandbox did not start")
    r = s.call("py_run_script_in_dir", {"directory": env.ws, "script_content": "print(2)"})
    check(r["stdout"] == "2\n", "a prepared sandbox still runs", r)
    s.stop()


def case_use_uv(env):
    """use_uv: uv installs when the server finds it on its PATH; otherwise
    pip does, and execution_strategy says which one ran."""
    import shutil
    d = Deps(env)
    s = d.server()
    env.write("ws/uses.py", "import tinypkg\nprint(tinypkg.VALUE)\n")
    r = s.call("py_run_script_in_dir", {"directory": env.ws, "script_path": "uses.py",
                                        "use_uv": True})
    check(r["stdout"] == "42\n", "installed and ran", r)
    if shutil.which("uv") is None:
        print("NOTE: uv is not installed on this machine: this case checks the pip "
              "fallback only; the uv install path is NOT tested here.")
        check(r["execution_strategy"] == "venv-pip", "without uv, pip builds it, and says so", r)
    else:
        check(r["execution_strategy"] == "venv-uv", "uv builds it, and says so", r)
    r = s.call("py_run_script_in_dir", {"directory": env.ws, "script_path": "uses.py",
                                        "use_uv": False})
    check(r["stdout"] == "42\n" and r["environment"]["reused"],
          "use_uv does not change which environment a set gets", r)
    s.stop()


class _QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # a killed pip drops its connection: expected


class _Gated(http.server.SimpleHTTPRequestHandler):
    gate = threading.Event()
    seen = threading.Event()

    def do_GET(self):
        _Gated.seen.set()
        _Gated.gate.wait(120)
        super().do_GET()

    def log_message(self, fmt, *args):
        pass


def case_request_after_cancel(env):
    """A request for a set whose build is being cancelled (its only job
    was cancelled) starts a build of its own instead of inheriting the
    cancellation."""
    d = Deps(env)
    index = d.simple_index()
    httpd = _QuietServer(("127.0.0.1", 0), functools.partial(_Gated, directory=index))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        s = env.server(env={"PIP_INDEX_URL": f"http://127.0.0.1:{httpd.server_address[1]}/simple"})
        args = {"script_content": "import tinypkg; print(tinypkg.VALUE)",
                "dependencies": ["tinypkg"], "async_mode": True}
        first = s.call(DEPS, args)["job_id"]
        check(_Gated.seen.wait(60), "the install asks the index")
        s.call("py_cancel_job", {"job_id": first})
        second = s.call(DEPS, args)["job_id"]
        _Gated.gate.set()
        job = s.wait_job(second)
        check(job["status"] == "completed" and job["result"]["stdout"] == "42\n",
              "the second request built its own environment", job)
        check(s.call("py_job_status", {"job_id": first})["job"]["status"] == "cancelled",
              "the first stays cancelled")
        s.stop()
    finally:
        _Gated.gate.set()
        httpd.shutdown()


def case_install_network_is_not_the_hosts(env):
    """An install's build code (hostile: it runs whatever setup code a
    package has) reaches another host, but neither the host's loopback
    nor the host's own address; under the host's network (the old
    install.json) it reaches both."""
    need_root("install_network_is_not_the_hosts")
    d = Deps(env)
    remote = Remote()
    try:
        lo = TokenServer("loopback", "127.0.0.1")
        own = TokenServer("own", "0.0.0.0")
        targets = {"loopback": ["127.0.0.1", lo.port], "gateway": ["10.0.2.2", lo.port],
                   "own": [primary_v4(), own.port], "remote": [remote.addr, remote.port]}
        build_probe_sdist(d.wheels, "netprobe", targets)
        build_probe_sdist(d.wheels, "netprobehost", targets)
        code = "import json, {0}; print(json.dumps({0}.RESULTS))"
        s = d.server()
        r = s.call(DEPS, {"script_content": code.format("netprobe"),
                          "dependencies": ["netprobe"]})
        res = json.loads(r["stdout"])
        check(lo.token not in res["loopback"] and lo.token not in res["gateway"],
              "the build code did not reach the host's loopback", res)
        check(own.token not in res["own"], "nor the host's own address", res)
        check(remote.token in res["remote"], "but it reached another host", res)
        s.stop()
        s = d.server(args=["--install-policy", host_network_policy(env)])
        r = s.call(DEPS, {"script_content": code.format("netprobehost"),
                          "dependencies": ["netprobehost"]})
        res = json.loads(r["stdout"])
        check(lo.token in res["loopback"] and own.token in res["own"],
              "negative control: with the host's network the build code reaches both", res)
        s.stop()
    finally:
        remote.close()


class _Recorded(http.server.SimpleHTTPRequestHandler):
    """Serves a directory and records the paths asked for, per server."""

    def log_message(self, fmt, *args):
        self.server.seen.append(self.path)


def serve(directory, bind="127.0.0.1"):
    httpd = http.server.ThreadingHTTPServer((bind, 0), functools.partial(_Recorded,
                                                                         directory=directory))
    httpd.seen = []
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def case_loopback_requirement_refused(env):
    """`pkg @ URL` on this machine's loopback is refused with a clear error,
    in any spelling and whatever network installs have; a URL on the
    index the admin configured on loopback is the exception, and works."""
    need_root("loopback_requirement_refused")
    d = Deps(env)
    index = serve(d.simple_index())
    other = serve(d.wheels, bind="0.0.0.0")
    wheel = "tinypkg-1.0-py3-none-any.whl"
    try:
        e = {"PIP_INDEX_URL": f"http://127.0.0.1:{index.server_address[1]}/simple"}
        port = other.server_address[1]
        spellings = [f"127.0.0.1:{port}", f"2130706433:{port}", f"0x7f.1:{port}",
                     f"[::ffff:127.0.0.1]:{port}", f"[::1]:{port}", f"localhost:{port}",
                     f"%31%32%37.0.0.1:{port}", f"user@127.0.0.1:{port}"]
        for policy in (None, host_network_policy(env)):
            s = env.server(env=e, args=["--install-policy", policy] if policy else [])
            for host in spellings:
                err = s.call_error(DEPS, {"script_content": "print(1)",
                                          "dependencies": [f"tinypkg @ http://{host}/{wheel}"]})
                contains(err, "is this machine's loopback", f"{host} refused")
                contains(err, "Hint:", f"{host}: the error says what to do instead")
            s.stop()
        check(other.seen == [], "no install asked the other port", other.seen)
        # Negative control: the same listener is reachable by a URL that is
        # not loopback, when installs have the host's network.
        s = env.server(env=e, args=["--install-policy", host_network_policy(env)])
        r = s.call(DEPS, {"script_content": "import tinypkg; print(tinypkg.VALUE)",
                          "dependencies": [f"tinypkg @ http://{primary_v4()}:{port}/{wheel}"]})
        check(r["stdout"] == "42\n" and other.seen, "negative control: fetched", other.seen)
        s.stop()
        # The admin's own loopback index: reachable through the user
        # network, by the index and by a URL on its port.
        index.seen.clear()
        s = env.server(env=e)
        r = s.call(DEPS, {"script_content": "import tinypkg; print(tinypkg.VALUE)",
                          "dependencies": [f"tinypkg @ http://127.0.0.1:"
                                           f"{index.server_address[1]}/{wheel}"]})
        check(r["stdout"] == "42\n" and any(wheel in p for p in index.seen),
              "a URL on the admin's loopback index installs", index.seen)
        r = s.call(DEPS, {"script_content": "import tinypkg; print(tinypkg.VALUE)",
                          "dependencies": ["tinypkg==1.0"]})
        check(r["stdout"] == "42\n" and any("simple/tinypkg" in p for p in index.seen),
              "the admin's loopback index serves installs", index.seen)
        s.stop()
    finally:
        index.shutdown()
        other.shutdown()


def case_session_with_dependencies(env):
    """A session started with dependencies runs in their environment; one
    whose package does not exist does not start, saying why, and leaves
    no session open."""
    d = Deps(env)
    s = d.server()
    sid = s.call("py_session_start", {"dependencies": ["tinypkg"]})["session_id"]
    r = s.call("py_session_run", {"session_id": sid, "code": "import tinypkg\ntinypkg.VALUE"})
    check(r["value"] == "42", "the session imports its dependency", r)
    err = s.call_error("py_session_start", {"dependencies": ["nosuchpkg==1.0"]})
    contains(err, "nosuchpkg==1.0", "a missing package: names it")
    sessions = s.call("py_session_list", {})["sessions"]
    check([x["status"] for x in sessions] == ["closed", "idle"],
          "the failed one is closed, the first idle", sessions)
    s.stop()


CASES = {name[5:]: fn for name, fn in sorted(globals().items()) if name.startswith("case_")}


if __name__ == "__main__":
    sys.exit(run_cases(CASES))
