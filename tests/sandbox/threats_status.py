"""Sandbox cases beyond THREATS.md 1a-1g: the status channel, errors, uid
mapping, and the catalog check; registered in threatlib.CASES."""
from threatlib import *  # noqa: F401,F403
from threats_fs import *  # noqa: F401,F403
from threats_process import *  # noqa: F401,F403
from threats_resources import *  # noqa: F401,F403
from threats_network import *  # noqa: F401,F403
from threats_kernel import *  # noqa: F401,F403
from threats_leaks import *  # noqa: F401,F403
from threats_time import *  # noqa: F401,F403

# ==========================================================================
# Status channel, errors, uid mapping

@case("status.exit", "started and exit events carry sane figures (cpu, peak RSS from the cgroup)")
def t_status_exit(ctx):
    ws = ctx.workspace()
    code = '''
    end = time.process_time() + 0.3
    while time.process_time() < end:
        pass
    block = bytearray(200 << 20)
    for i in range(0, len(block), 4096):
        block[i] = 1
    R["allocated"] = len(block)
    '''
    res = ctx.probe(ws, code)
    st, ex = res.started, res.exit
    check(isinstance(st.get("pid"), int) and st["pid"] > 0 and st["workspace"] == ws and
          st["network"] is False and st["seccomp"] is True, "started: pid, workspace, network, "
          "seccomp", st)
    have = delegable_controllers()
    check_cgroups_used(res, *sorted(have & {"memory", "pids", "cpu"}))
    for k in ("exit_code", "signal", "cpu_user_seconds", "cpu_system_seconds", "wall_seconds",
              "peak_rss_bytes", "peak_rss_source", "limit"):
        check(k in ex, f"exit: has {k} ({ex.get(k)!r})")
    check(res.rc == 0 and ex["exit_code"] == 0 and ex["signal"] is None and ex["limit"] is None,
          "exit: code 0, no signal, no limit")
    check(ex["cpu_user_seconds"] > 0, f"exit: cpu_user_seconds {ex['cpu_user_seconds']} > 0 "
                                      "after a busy loop")
    check(ex["wall_seconds"] > 0 and ex["cpu_system_seconds"] >= 0, "exit: wall and system time")
    check(ex["peak_rss_bytes"] >= 200 * MiB, f"exit: peak_rss_bytes {ex['peak_rss_bytes']} >= "
                                             "the 200 MiB the script touched")
    if "memory" in have:
        cg = ex.get("cgroup_memory_peak_bytes")
        check(cg is not None and cg >= 200 * MiB,
              f"exit: the memory cgroup's peak {cg} >= 200 MiB")
        check(ex["peak_rss_source"] in ("cgroup", "rusage") and
              (ex["peak_rss_source"] == "cgroup") == (cg > ex.get("max_process_rss_bytes", 0)),
              f"exit: peak_rss_source {ex['peak_rss_source']!r} names the larger figure", ex)
    # Exit codes and signals.
    res = ctx.run(["/bin/sh", "-c", "exit 7"], ws)
    check(res.rc == 7 and res.exit["exit_code"] == 7 and res.exit["signal"] is None,
          "exit 7: launcher rc 7 and exit_code 7", res.text())
    res = ctx.run(["/bin/sh", "-c", "kill -SEGV $$"], ws)
    check(res.rc == 139 and res.exit["signal"] == 11 and res.exit["exit_code"] is None,
          "killed by SIGSEGV: rc 139 and signal 11", res.text())
    cores = [n for n in os.listdir(ws) if n.startswith("core")]
    check(not cores, f"host: the crash left no core file in the workspace (RLIMIT_CORE 0) {cores}")


def expect_error(res, rc, stage, what):
    check(res.rc == rc and res.error is not None and res.error.get("stage") == stage,
          f"{what}: exit {rc}, error event at stage {stage!r}", res.text())
    check(res.started is None and res.exit is None, f"{what}: nothing was started", res.text())


@case("error.workspace", "a workspace outside the roots, missing, or overlapping --protect is refused")
def t_err_ws(ctx):
    roots = ctx.path("roots")
    os.makedirs(os.path.join(roots, "ws", "inner"))
    other = ctx.workspace("other")
    pol = ctx.policy(set_key("workspace.roots", [roots]), "roots")
    res = ctx.run(["/bin/true"], other, policy=pol)
    expect_error(res, 125, "workspace", "outside the roots")
    check(res.error.get("hint") and roots in res.error["hint"],
          f"outside the roots: the hint names the roots ({res.error.get('hint')!r})")
    res = ctx.run(["/bin/true"], os.path.join(roots, "missing"), policy=pol)
    expect_error(res, 125, "workspace", "a missing workspace")
    check(bool(res.error.get("hint")), f"missing: a hint ({res.error.get('hint')!r})")
    ws = os.path.join(roots, "ws")
    for prot, what in ((os.path.join(ws, "inner"), "contains"), (roots, "lies inside")):
        res = ctx.run(["/bin/true"], ws, policy=pol, extra=["--protect", prot])
        expect_error(res, 125, "workspace", f"a workspace that {what} --protect {prot}")
        check(bool(res.error.get("hint")), "a hint is given")
    # Control: the same workspace with an unrelated --protect runs.
    res = ctx.run(["/bin/true"], ws, policy=pol, extra=["--protect", other])
    check(res.rc == 0 and res.exit is not None, "control: with an unrelated --protect it runs",
          res.text())


@case("error.exec", "a missing command gives 127, a non-executable one 126, stage \"exec\"")
def t_err_exec(ctx):
    ws = ctx.workspace()
    res = ctx.run(["/nonexistent/prog"], ws)
    expect_error_exec = res.rc == 127 and res.error and res.error.get("stage") == "exec"
    check(expect_error_exec, "missing command: exit 127, error event at stage \"exec\"", res.text())
    check(bool(res.error.get("hint")), f"missing command: a hint ({res.error.get('hint')!r})")
    check(res.exit is None, "missing command: no exit event", res.text())
    res = ctx.run(["no-such-command-on-path"], ws)
    check(res.rc == 127 and res.error and res.error.get("stage") == "exec",
          "a name not on the sandbox's PATH: 127 at stage exec", res.text())
    with open(os.path.join(ws, "data.txt"), "w") as f:
        f.write("not a program")
    res = ctx.run([os.path.join(ws, "data.txt")], ws)
    check(res.rc == 126 and res.error and res.error.get("stage") == "exec",
          "a non-executable file: exit 126 at stage exec", res.text())
    res = ctx.run(["/bin/true"], ws)
    check(res.rc == 0 and res.error is None, "control: an existing command runs", res.text())


@case("userns.host-uid", "the script never runs as host root but as the policy's host uid; "
                         "the id-mapped workspace keeps its owner")
def t_userns(ctx):
    expect = ctx.default["user"]["host_uid"]
    for owner in (None, OTHER_UID):
        ws = ctx.workspace(f"ws-{owner or 'root'}", owner=owner)
        path = ctx.script(ws, 'R["uid"] = os.getuid()\nopen("made-inside", "w").close()\n'
                              'touch("running")\nwait_for("go")\n', "who.py")
        job = ctx.start([PY, path], ws)
        try:
            init = job.wait_started()["pid"]
            check(wait_until(lambda: os.path.exists(os.path.join(ws, "running"))), "the job runs")
            script = wait_until(lambda: children_of(init))[0]
            uids = proc_status(script)["Uid"].split()
            init_uids = proc_status(init)["Uid"].split()
        finally:
            with open(os.path.join(ws, "go"), "w"):
                pass
            res = job.finish()
        label = f"workspace owned by {owner if owner is not None else 'root'}"
        check(res.result["uid"] == 1000, f"{label}: uid 1000 inside")
        check(uids == [str(expect)] * 4 and init_uids == [str(expect)] * 4,
              f"{label}: host /proc shows the script and init as uid {expect} ({uids})")
        made = os.stat(os.path.join(ws, "made-inside"))
        check(made.st_uid == (owner if owner is not None else 0),
              f"{label}: a file the script made belongs to the workspace's owner on the host "
              f"(uid {made.st_uid})")
    check(proc_status(os.getpid())["Uid"].split()[0] == "0",
          "control: the launcher itself runs as host root, so the check above can fail")


@case("catalog", "every THREATS.md 1a-1g item has a case here or a stated reason")
def t_catalog(ctx):
    missing = [c for c in CATALOG if c not in CASES and c not in NOT_COVERED]
    for c, why in NOT_COVERED.items():
        log(f"# not covered: {c}: {why}")
    for c, why in PARTIAL.items():
        log(f"# partly covered: {c}: {why}")
    check(not missing, f"every catalog item is covered or explained (missing: {missing})")
