"""Sandbox cases of THREATS.md 1f: information leaks; registered in threatlib.CASES."""
from threatlib import *  # noqa: F401,F403
from threats_fs import *  # noqa: F401,F403
from threats_process import *  # noqa: F401,F403
from threats_resources import *  # noqa: F401,F403
from threats_network import *  # noqa: F401,F403
from threats_kernel import *  # noqa: F401,F403

# ==========================================================================
# 1f Information leaks

ENV_CODE = r'''
R["environ"] = sorted(os.environ)
R["proc environ"] = sorted(kv.split(b"=", 1)[0].decode()
                           for kv in open("/proc/self/environ", "rb").read().split(b"\0") if kv)
R["leaked"] = ARGS[0].encode() in open("/proc/self/environ", "rb").read()
'''


@case("I1", "the environment holds only the policy's variables, no launcher secrets")
def t_i1(ctx):
    ws = ctx.workspace()
    res = ctx.probe(ws, ENV_CODE, args=["S3CR3T-"], extra=["--env", "JOB_ID=42"])
    r = res.result
    allowed = set(ctx.default["environment"]["set"]) | \
        {k for k in ctx.default["environment"].get("pass", []) if k in ctx.launcher_env} | \
        {"JOB_ID", "PYMCP_PROGRESS_FD"}
    check(set(r["proc environ"]) == allowed,
          f"inside: /proc/self/environ holds exactly {sorted(allowed)}", r)
    check(set(r["environ"]) <= allowed | {"LC_CTYPE"}, f"inside: os.environ holds {r['environ']}")
    check(not r["leaked"] and ctx.secret.encode() not in res.out,
          "inside: the launcher's API keys are not there")
    ctl = ctx.probe(ws, ENV_CODE, args=["S3CR3T-"], policy=ctx.policy(
        lambda p: p["environment"]["pass"].append("PYMCP_TEST_API_KEY"), "pass-secret")).result
    check(ctl["leaked"] and "PYMCP_TEST_API_KEY" in ctl["environ"],
          "control: when the policy passes the variable, the probe finds the secret")


INIT_PROC_CODE = r'''
secret = ARGS[0][::-1].encode()     # reversed on the command line, which is searched too
attempt("1 environ", lambda: open("/proc/1/environ", "rb").read())
attempt("1 maps", lambda: open("/proc/1/maps").read())
found = []
for p in os.listdir("/proc"):
    for f in ("environ", "cmdline"):
        try:
            if secret in open("/proc/%s/%s" % (p, f), "rb").read():
                found.append(p + "/" + f)
        except OSError:
            pass
R["found"] = found
'''


@case("I2", "init's /proc/1/environ and maps are closed; no secret in any readable /proc entry")
def t_i2(ctx):
    ws = ctx.workspace()
    r = ctx.probe(ws, INIT_PROC_CODE, args=[ctx.secret[::-1]]).result
    check(r["1 environ"] in INIT_HIDDEN and r["1 maps"] in INIT_HIDDEN,
          "inside: /proc/1/environ and /proc/1/maps -> EACCES or ENOENT (init hidden, not dumpable)", r)
    check(not r["found"], f"inside: the secret is in no /proc/*/environ or cmdline ({r['found']})")
    # Control: a dumpable host process with the secret in its environment.
    holder = subprocess.Popen([PY, "-c", "import time; time.sleep(60)"], user=NOBODY,
                              group=NOBODY, extra_groups=[],
                              env=dict(ctx.launcher_env))
    try:
        ctl = ctx.host(INIT_PROC_CODE, user=NOBODY, args=[ctx.secret[::-1]]).result
        check(f"{holder.pid}/environ" in ctl["found"],
              "control: outside the sandbox the same probe finds the secret in a process's environ")
    finally:
        holder.kill()
        holder.wait()


@case("I3", "a job sees no other job's files, workspaces or processes")
def t_i3(ctx):
    ws_a, ws_b = ctx.workspace("ws-a"), ctx.workspace("ws-b")
    mark = ctx.mark("i3-a")
    with open(os.path.join(ws_a, f"{mark}.txt"), "w") as f:
        f.write(mark)
    a_path = ctx.script(ws_a, 'touch("running")\nwait_for("stop")\n', "a.py", body=False)
    job_a = ctx.start([PY, a_path, mark], ws_a)
    code = f'''
    seen = []
    for d in (os.path.dirname(os.getcwd()), "/tmp", "/var/tmp", "/"):
        try:
            seen += [os.path.join(d, n) for n in os.listdir(d)]
        except OSError:
            pass
    for p in os.listdir("/proc"):
        try:
            seen.append(open("/proc/%s/cmdline" % p, "rb").read().decode(errors="replace"))
        except OSError:
            pass
    R["leaks"] = [s for s in seen if {mark!r} in s or "ws-a" in s]
    R["parent"] = sorted(os.listdir(os.path.dirname(os.getcwd())))
    '''
    try:
        job_a.wait_started()
        check(wait_until(lambda: os.path.exists(os.path.join(ws_a, "running"))), "job A runs")
        r = ctx.probe(ws_b, code).result
        check(not r["leaks"], "job B: nothing of job A in its workspace's parent, /tmp, /proc",
              r)
        check(r["parent"] == ["ws-b"], f"job B: its workspace's parent lists only {r['parent']}")
        ctl = ctx.host(code, cwd=ws_b).result
        check(ctl["leaks"], "control: outside, the same probe finds job A's workspace and process")
    finally:
        with open(os.path.join(ws_a, "stop"), "w"):
            pass
        job_a.finish()


@case("I4", "the hostname is the policy's; sethostname is refused")
def t_i4(ctx):
    ws = ctx.workspace("ws-seccomp")
    check_seccomp(ctx, {"sethostname": {"EPERM"}, "setdomainname": {"EPERM"}}, ws=ws)
    before = socket.gethostname()
    code = '''
    R["nodename"] = os.uname().nodename
    attempt("sethostname", lambda: sysc(170, b"pwned", 5))
    '''
    r = ctx.probe(ws, code).result
    check(r["nodename"] == ctx.default["hostname"], f"inside: nodename is {r['nodename']!r}")
    check(r["sethostname"] == "EPERM", f"inside: sethostname -> {r['sethostname']}")
    check(socket.gethostname() == before, "host: hostname unchanged")
    check(before != ctx.default["hostname"], f"control: the host's name is {before!r}, not the "
                                             "sandbox's, so the nodename check can fail")


PROC_FILES = ["/proc/kcore", "/proc/kallsyms", "/proc/timer_list", "/proc/sched_debug",
              "/proc/keys", "/proc/modules", "/proc/kmsg", "/proc/config.gz"]


@case("I5", "/proc/kcore, kallsyms, timer_list, sched_debug and /sys are absent")
def t_i5(ctx):
    ws = ctx.workspace()
    code = f'''
    for p in {PROC_FILES + ["/sys"]!r}:
        attempt(p, os.stat, p)
    '''
    r = ctx.probe(ws, code).result
    for p in PROC_FILES + ["/sys"]:
        check(r[p] == "ENOENT", f"inside: {p} -> {r[p]}")
    on_host = [p for p in PROC_FILES if os.path.exists(p)]
    ctl = ctx.probe(ws, code, policy=ctx.policy(set_key("proc.subset_pid", False), "fullproc")).result
    check(on_host and all(ctl[p] == "OK" for p in on_host),
          f"control: with the full procfs {on_host} are visible", ctl)


@case("I6", "syslog is refused by the filter; /dev/kmsg is absent")
def t_i6(ctx):
    ws = ctx.workspace("ws-seccomp")
    check_seccomp(ctx, {"syslog": {"EPERM"}}, ws=ws)
    r = ctx.probe(ws, 'attempt("kmsg", lambda: open("/dev/kmsg", "rb"))').result
    check(r["kmsg"] == "ENOENT", f"inside: /dev/kmsg -> {r['kmsg']}")
    check(os.path.exists("/dev/kmsg"), "control: the host has /dev/kmsg")


MOUNTINFO_CODE = r'''
R["roots"] = sorted({l.split()[3] for l in open("/proc/self/mountinfo")})
'''


@case("I7", "mountinfo shows only the policy's bind sources and the workspace (documented leak)")
def t_i7(ctx):
    ws = ctx.workspace()
    secret = ctx.path("secret-dir")
    os.makedirs(secret)
    r = ctx.probe(ws, MOUNTINFO_CODE).result
    sources = [m["source"] for m in ctx.default["mounts"] if m["type"] == "bind"]
    sources += ["/etc/" + e for e in ctx.default.get("etc", [])]
    devs = {"/" + n for n in ("null", "zero", "full", "random", "urandom")}

    def known(root):
        return root == "/" or root in devs or root == ws or \
            any(root == s or root.startswith(s.rstrip("/") + "/") for s in sources)
    unknown = [x for x in r["roots"] if not known(x)]
    log(f"# mountinfo field 4 inside: {r['roots']} (host paths of bind sources and of the "
        f"workspace are visible: THREATS I7, documented)")
    check(not unknown, f"inside: no mount root outside the policy's sources and the workspace "
                       f"({unknown})")
    ctl = ctx.probe(ws, MOUNTINFO_CODE, policy=ctx.policy(add_mount(
        {"type": "bind", "source": secret, "target": "/opt/extra"}), "extra")).result
    check(secret in ctl["roots"], "control: an extra bind shows its host path in mountinfo")


@case("I8", "host-wide figures: /proc/cpuinfo etc. hidden by subset=pid, sysinfo() accepted")
def t_i8(ctx):
    ws = ctx.workspace()
    files = ["/proc/cpuinfo", "/proc/meminfo", "/proc/loadavg", "/proc/uptime", "/proc/stat"]
    code = f'''
    for p in {files!r}:
        attempt(p, lambda: open(p).read())
    buf = ctypes.create_string_buffer(128)
    attempt("sysinfo", sysc, 99, buf)
    R["cpu_count"] = os.cpu_count()
    '''
    r = ctx.probe(ws, code).result
    for p in files:
        check(r[p] == "ENOENT", f"inside: {p} -> {r[p]} (hidden by proc.subset_pid)")
    check(r["sysinfo"] == "OK" and r["cpu_count"],
          "inside: sysinfo() and the CPU count still work (host-wide uptime, loads and memory: "
          "accepted, THREATS I8)")
    ctl = ctx.probe(ws, code, policy=ctx.policy(set_key("proc.subset_pid", False), "fullproc")).result
    check(all(ctl[p] == "OK" for p in files), "control: with the full procfs they are readable")


@case("I9", "kernel keyrings (keyctl, add_key, request_key) are refused by the filter")
def t_i9(ctx):
    check_seccomp(ctx, {"keyctl": {"EPERM"}, "add_key": {"EPERM"}, "request_key": {"EPERM"}})
