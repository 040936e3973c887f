#!/usr/bin/python3
"""Compatibility: real Python work runs the same inside the default sandbox
as outside it.  Each case runs the same thing twice, with Debian's
/usr/bin/python3 and the policy's environment: inside, through the real
launcher (python-mcp-sandbox --policy POLICY --workspace DIR -- python3 ...),
and outside, as a plain process in a directory of its own.  What passes
outside must pass inside; what fails outside is reported and left out of the
comparison (the sandbox cannot be blamed for it).

    compat.py --launcher BIN --policy FILE workload
    compat.py --launcher BIN --policy FILE stdlib [MODULE...]

workload   workload.py: numpy, scipy, pandas, matplotlib, scikit-learn,
           sqlite3, multiprocessing, subprocess, asyncio, ssl, zoneinfo,
           venv creation, a 500 MB DataFrame, terminals.
stdlib     CPython's own tests (Debian's libpython3.11-testsuite), compared
           test by test from regrtest's JUnit XML.  A test that passes outside
           and fails inside fails the case, unless its module is one of
           POLICY_CHOICES (the sandbox refuses what it needs on purpose;
           README.md lists them).

Exit status: 0 pass, 1 fail, 77 the machine cannot run the case (no user
namespaces); ctest counts 77 as a failure unless PYMCP_ALLOW_SKIP is set.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

PY = "/usr/bin/python3"
NOBODY = 65534
HERE = os.path.dirname(os.path.abspath(__file__))
SKIP = 77

# The stdlib modules compared, chosen for what a sandbox can change (files,
# processes, signals, terminals, sockets, limits, users, time, the
# interpreter's own installation) and to finish in a few minutes on two
# cores.  Heavy suites whose subject the workload covers (test_asyncio,
# test_concurrent_futures, test_multiprocessing_*) are left out.
STDLIB_MODULES = [
    "test_os", "test_posix", "test_io", "test_fileio", "test_file", "test_shutil",
    "test_tempfile", "test_pathlib", "test_glob", "test_stat", "test_posixpath",
    "test_mmap", "test_fcntl", "test_tarfile", "test_zipfile", "test_dbm",
    "test_pty", "test_ioctl", "test_getpass", "test_readline",
    "test_subprocess", "test_popen", "test_signal", "test_threadsignals", "test_threading",
    "test_wait4", "test_fork1", "test_resource",
    "test_socket", "test_select", "test_poll", "test_epoll",
    "test_httpservers", "test_urllib2_localnet", "test_ssl",
    "test_pwd", "test_grp", "test_time", "test_zoneinfo", "test_locale", "test_mimetypes",
    "test_platform", "test_sysconfig", "test_site", "test_venv", "test_cmd_line_script",
    "test_ctypes", "test_sys", "test_tracemalloc", "test_uuid", "test_hashlib",
]

# Tests never run on either side.  AF_VSOCK is refused by the filter inside
# (THREATS.md N7, test_socket skips then); outside, on a virtual machine
# with a vsock device, the threaded VSOCK test waits for a peer forever.
IGNORED = ["*VSOCK*"]

# Modules whose differences are deliberate policy choices, with the reason
# (at most two; README.md carries the same list).
POLICY_CHOICES = {
    "test_resource": "the policy sets rlimits (RLIMIT_FSIZE, a hard RLIMIT_CPU; THREATS.md R3, R6): "
                     "test_fsize_ismax expects no file size limit, test_setrusage_refcount raises "
                     "the CPU limit",
}

# A test that passes outside and is skipped inside counts as a difference,
# unless regrtest's reason for the skip is one of these consequences of the
# policy.
EXPECTED_SKIPS = {
    "requires ip": "no network interface with a hardware address (network namespace)",
    "requires ifconfig": "no network interface with a hardware address (network namespace)",
    "filesystem does not have largefile support": "files beyond RLIMIT_FSIZE (4 GiB)",
    "Cannot set S_ISGID for dir.": "no setuid/setgid bits (seccomp: the workspace is id-mapped)",
}


class Fail(AssertionError):
    pass


class Skip(Exception):
    pass


def log(msg):
    print(msg, flush=True)


def policy_env(policy, workspace):
    """The environment the launcher gives a script, for the run outside."""
    env = {}
    for k, v in policy.get("environment", {}).get("set", {}).items():
        env[k] = v.replace("${WORKSPACE}", workspace)
    for k in policy.get("environment", {}).get("pass", []):
        if k in os.environ:
            env[k] = os.environ[k]
    return env


class Runner:
    def __init__(self, launcher, policy_file):
        self.launcher = os.path.abspath(launcher)
        self.policy_file = os.path.abspath(policy_file)
        with open(policy_file) as f:
            self.policy = json.load(f)
        # Workspaces go below /tmp, a root of the default policy.
        self.tmp = tempfile.mkdtemp(prefix="pymcp-compat-", dir="/tmp")
        os.chmod(self.tmp, 0o755)

    def workspace(self, name):
        ws = os.path.join(self.tmp, name)
        os.makedirs(ws)
        return ws

    def inside(self, ws, argv, timeout):
        r, w = os.pipe()
        p = subprocess.Popen([self.launcher, "--policy", self.policy_file, "--workspace", ws,
                              "--status-fd", str(w), "--", *argv], pass_fds=(w,),
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=ws)
        os.close(w)
        with os.fdopen(r) as f:
            events = [json.loads(line) for line in f]
        out, _ = p.communicate(timeout=timeout)
        started = [e for e in events if e.get("event") == "started"]
        if p.returncode == 125 and not started:
            err = [e for e in events if e.get("event") == "error"]
            if err and err[0].get("stage") == "namespaces":
                raise Skip("the launcher cannot create namespaces here: " + err[0]["message"])
            raise Fail(f"the sandbox did not start: {events}\n{out.decode(errors='replace')}")
        return p.returncode, out.decode(errors="replace"), events

    def outside(self, ws, argv, timeout):
        """Outside, as an unprivileged user: the sandbox never gives root,
        so tests that need it are compared with their skipped selves."""
        ids = {}
        if os.geteuid() == 0:
            os.chown(ws, NOBODY, NOBODY)
            ids = {"user": NOBODY, "group": NOBODY, "extra_groups": []}
        p = subprocess.run(argv, cwd=ws, env=policy_env(self.policy, ws),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           stdin=subprocess.DEVNULL, timeout=timeout, **ids)
        return p.returncode, p.stdout.decode(errors="replace")


def result_line(out):
    lines = [l for l in out.splitlines() if l.startswith("RESULT ")]
    if not lines:
        raise Fail("no RESULT line:\n" + out[-4000:])
    return json.loads(lines[-1][len("RESULT "):])


def case_workload(run):
    script = os.path.join(HERE, "workload.py")
    ws_out = run.workspace("outside")
    shutil.copy(script, ws_out)
    rc, out = run.outside(ws_out, [PY, "workload.py"], timeout=900)
    log("# outside:\n" + out)
    outside = result_line(out)
    ws_in = run.workspace("inside")
    shutil.copy(script, ws_in)
    rc_in, out_in, events = run.inside(ws_in, [PY, "workload.py"], timeout=900)
    log("# inside the sandbox:\n" + out_in)
    inside = result_line(out_in)
    exit_ev = [e for e in events if e.get("event") == "exit"]
    log(f"# sandbox exit event: {exit_ev}")
    broken = [s for s, r in outside.items() if not r["ok"]]
    if broken:
        raise Fail(f"steps fail OUTSIDE the sandbox, so the machine lacks what the test "
                   f"command installs (scripts/lib.sh): {broken}")
    lost = [s for s, r in outside.items() if r["ok"] and not inside.get(s, {}).get("ok")]
    if lost:
        raise Fail("steps that work outside fail inside the sandbox:\n" +
                   "\n".join(f"  {s}: {inside.get(s, {}).get('detail', 'not run')}"
                             for s in lost))
    if rc != 0 or rc_in != 0:
        raise Fail(f"workload exit status: outside {rc}, inside {rc_in}")
    log(f"ok - all {len(outside)} steps pass outside and inside the sandbox")


def junit_results(path):
    """{test id: (state, skip reason)} from regrtest's JUnit XML; state is
    "pass", "fail" or "skip"."""
    results = {}
    if not os.path.exists(path):
        return results
    for tc in ET.parse(path).getroot().iter("testcase"):
        kinds = {child.tag: child for child in tc}
        reason = ""
        if kinds.keys() & {"failure", "error"}:
            state = "fail"
        elif "skipped" in kinds:
            state = "skip"
            reason = (kinds["skipped"].text or kinds["skipped"].get("message") or "").strip()
        else:
            state = "pass"
        results[tc.get("name")] = (state, reason)
    return results


def regrtest(run, where, ws, modules, match=()):
    """Runs python3 -m test on one side; returns ({test: state}, output)."""
    xml = os.path.join(ws, "junit.xml")
    if os.path.exists(xml):
        os.unlink(xml)
    # --timeout: a hung test dumps its stack and its module counts as
    # crashed (its tests then missing), rather than blocking the run.
    argv = [PY, "-m", "test", "-j2", "--slowest", "--timeout", "900", "--junit-xml", xml]
    for pat in IGNORED:
        argv += ["-i", pat]
    for pat in match:
        argv += ["-m", pat]
    argv += list(modules)
    if where == "inside":
        rc, out, _ = run.inside(ws, argv, timeout=3600)
    else:
        rc, out = run.outside(ws, argv, timeout=3600)
    return junit_results(xml), out


def module_of(test_id):
    # test.test_os.FileTests.test_x -> test_os; test_ctypes runs
    # ctypes.test.test_x.Class.test_y -> test_ctypes.
    parts = test_id.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "test" else "test_" + parts[0]


def summary(out):
    """regrtest's closing summary, for the log."""
    idx = out.rfind("== Tests result")
    return out[idx:] if idx >= 0 else out[-3000:]


def differences(outside, inside):
    """Tests that pass outside and do not pass inside, with what they got
    inside; skips for an EXPECTED_SKIPS reason are left out."""
    lost = {}
    for t, (state, _) in outside.items():
        got, reason = inside.get(t, ("missing", ""))
        if state != "pass" or got == "pass":
            continue
        if got == "skip" and reason in EXPECTED_SKIPS:
            continue
        lost[t] = f"{got}: {reason}" if reason else got
    return lost


def case_stdlib(run, modules):
    ws_out = run.workspace("outside")
    outside, out = regrtest(run, "outside", ws_out, modules)
    log("# outside:\n" + summary(out))
    ws_in = run.workspace("inside")
    inside, out_in = regrtest(run, "inside", ws_in, modules)
    log("# inside the sandbox:\n" + summary(out_in))
    if not outside:
        raise Fail("regrtest reported no test outside the sandbox (is libpython3.11-testsuite "
                   "installed? scripts/lib.sh installs it):\n" + out[-3000:])
    failed_out = sorted(t for t, (s, _) in outside.items() if s == "fail")
    if failed_out:
        log(f"# {len(failed_out)} test(s) fail outside the sandbox too (not compared):")
        for t in failed_out:
            log(f"#   {t}")
    skipped = sorted((t, inside[t][1]) for t, (s, _) in outside.items()
                     if s == "pass" and inside.get(t, ("",))[0] == "skip" and
                     inside[t][1] in EXPECTED_SKIPS)
    for t, reason in skipped:
        log(f"# skipped inside by policy: {t} ({reason}: {EXPECTED_SKIPS[reason]})")
    lost = differences(outside, inside)
    # A test that fails inside once may be a timing accident of a loaded
    # machine: run it once more.  A difference the sandbox makes happens
    # every time.
    if lost:
        log(f"# {len(lost)} test(s) pass outside and not inside; running them again inside:")
        for t, got in sorted(lost.items()):
            log(f"#   {t}: {got}")
        mods = sorted({module_of(t) for t in lost})
        again, out_again = regrtest(run, "inside", ws_in, mods, match=sorted(lost))
        log("# inside, again:\n" + summary(out_again))
        lost = {t: got for t, got in differences(outside, again).items() if t in lost}
    chosen = {t: got for t, got in lost.items() if module_of(t) in POLICY_CHOICES}
    for t, got in sorted(chosen.items()):
        log(f"# policy choice: {t} -> {got} ({POLICY_CHOICES[module_of(t)]})")
    lost = {t: got for t, got in lost.items() if t not in chosen}
    passed = [t for t, (s, _) in outside.items() if s == "pass"]
    per_module = {module_of(t) for t in passed}
    log(f"# compared {len(passed)} tests that pass outside, in {len(per_module)} modules")
    missing = [m for m in modules if m not in per_module]
    if missing:
        log(f"# modules with no test passing outside (not compared): {missing}")
    if len(per_module) < len(modules) // 2:
        raise Fail(f"only {len(per_module)} of {len(modules)} modules pass anything outside "
                   "the sandbox: this comparison would show nothing")
    if lost:
        raise Fail(f"{len(lost)} test(s) pass outside and fail inside the sandbox:\n" +
                   "\n".join(f"  {t}: {got}" for t, got in sorted(lost.items())))
    log(f"ok - every test that passes outside passes inside ({len(passed)} tests)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--launcher", required=True)
    ap.add_argument("--policy", required=True)
    ap.add_argument("case", choices=["workload", "stdlib"])
    ap.add_argument("modules", nargs="*")
    a = ap.parse_args()
    run = Runner(a.launcher, a.policy)
    try:
        if a.case == "workload":
            case_workload(run)
        else:
            case_stdlib(run, a.modules or STDLIB_MODULES)
    except Skip as s:
        print(f"CANNOT TEST {a.case} ON THIS MACHINE: {s}", file=sys.stderr)
        return SKIP
    except Fail as e:
        print(f"FAILED {a.case}: {e}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(run.tmp, ignore_errors=True)
    print(f"passed {a.case}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
