"""Sandbox cases of THREATS.md 1b: process; registered in threatlib.CASES."""
from threatlib import *  # noqa: F401,F403
from threats_fs import *  # noqa: F401,F403

# ==========================================================================
# 1b Process

PTRACE_CODE = r'''
pid = os.fork()
if pid == 0:
    time.sleep(30)
    os._exit(0)
attempt("attach child", sysc, 101, 16, pid, 0, 0)      # PTRACE_ATTACH
attempt("attach init", sysc, 101, 16, 1, 0, 0)
os.kill(pid, 9)
os.waitpid(pid, 0)
'''


@case("P1", "ptrace of a sibling or of init is refused by the filter")
def t_p1(ctx):
    ws = ctx.workspace("ws-seccomp")
    check_seccomp(ctx, {"ptrace": {"EPERM"}, "ptrace_attach_1": {"EPERM"}}, ws=ws)
    r = ctx.probe(ws, PTRACE_CODE).result
    check(r["attach child"] == "EPERM" and r["attach init"] == "EPERM",
          "inside: PTRACE_ATTACH on a child and on pid 1 -> EPERM", r)
    ctl = ctx.probe(ws, PTRACE_CODE, policy=ctx.policy(drop_seccomp, "no-seccomp")).result
    check(ctl["attach child"] == "OK", "control: without the filter the same attach succeeds", ctl)


def pid_max():
    with open("/proc/sys/kernel/pid_max") as f:
        return int(f.read())


@case("P2", "kill reaches only sandbox pids; host pids give ESRCH; kill(-1) stays inside")
def t_p2(ctx):
    ws = ctx.workspace()
    mark = ctx.mark("p2-victim")
    victim = subprocess.Popen([PY, "-c", "import time; time.sleep(120)", mark], user=NOBODY)
    ctx.cleanup_pids.append(victim.pid)
    code = r'''
    victim, top = int(ARGS[0]), int(ARGS[1])
    sib = os.fork()
    if sib == 0:
        time.sleep(60)
        os._exit(0)
    exist, odd = [], {}
    for pid in range(2, top + 1):
        try:
            os.kill(pid, 0)
            exist.append(pid)
        except OSError as e:
            if e.errno != errno.ESRCH:
                odd[pid] = en(e.errno)
    R["existing"], R["odd"] = exist, odd
    attempt("kill victim", os.kill, victim, signal.SIGKILL)
    os.kill(-1, signal.SIGKILL)
    _, st = os.waitpid(sib, 0)
    R["sibling killed"] = os.WIFSIGNALED(st) and os.WTERMSIG(st) == 9
    '''
    try:
        r = ctx.probe(ws, code, args=[str(victim.pid), str(pid_max())]).result
        check(len(r["existing"]) <= 3 and not r["odd"],
              f"inside: of pids 2..{pid_max()} only {r['existing']} exist", r)
        if victim.pid > 10:
            check(r["kill victim"] == "ESRCH", f"inside: kill(host pid) -> {r['kill victim']}")
        check(r["sibling killed"], "inside: kill(-1, SIGKILL) reached the sandbox's own process")
        check(victim.poll() is None, "host: the host process of the sandbox's uid is alive")
        # Control: the same uid outside the sandbox can signal it (signal 0 only).
        ctl = ctx.host('attempt("kill victim", os.kill, int(ARGS[0]), 0)', user=NOBODY,
                       args=[str(victim.pid)]).result
        check(ctl["kill victim"] == "OK", "control: outside the sandbox the victim is reachable")
    finally:
        victim.kill()
        victim.wait()


@case("P3", "one job cannot see or signal another job's processes")
def t_p3(ctx):
    ws_a, ws_b = ctx.workspace("ws-a"), ctx.workspace("ws-b")
    mark = ctx.mark("p3-a")
    a_path = ctx.script(ws_a, r'''
    touch("running")
    while not os.path.exists("stop"):
        open("a.marker", "a").write("x")
        time.sleep(0.05)
    ''', "a.py")
    job_a = ctx.start([PY, a_path, mark], ws_a)
    try:
        init_a = job_a.wait_started()["pid"]
        check(wait_until(lambda: os.path.exists(os.path.join(ws_a, "running"))), "job A runs")
        script_a = wait_until(lambda: children_of(init_a))[0]
        code = r'''
        targets = [int(x) for x in ARGS]
        for t in targets:
            attempt("pidfd_open %d" % t, sysc, 434, t, 0)
            attempt("kill %d" % t, os.kill, t, signal.SIGKILL)
        R["pids"] = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
        attempt("kill -1", os.kill, -1, signal.SIGKILL)
        '''
        r = ctx.probe(ws_b, code, args=[str(init_a), str(script_a)]).result
        for t in (init_a, script_a):
            if t > 10:
                check(r[f"pidfd_open {t}"] == "ESRCH" and r[f"kill {t}"] == "ESRCH",
                      f"job B: pidfd_open/kill of job A's host pid {t} -> ESRCH", r)
        size = os.path.getsize(os.path.join(ws_a, "a.marker"))
        check(wait_until(lambda: os.path.getsize(os.path.join(ws_a, "a.marker")) > size, 10),
              "host: job A keeps running after job B's kill(-1)")
        # Control: outside the sandboxes, job A's script is reachable.
        ctl = ctx.host('attempt("pidfd_open", sysc, 434, int(ARGS[0]), 0)', user=NOBODY,
                       args=[str(script_a)]).result
        check(ctl["pidfd_open"] == "OK", "control: outside, job A's script pid can be opened")
        with open(os.path.join(ws_a, "stop"), "w"):
            pass
        res_a = job_a.finish()
        check(res_a.rc == 0, "job A ends normally", res_a.text())
    finally:
        if job_a.proc.poll() is None:
            job_a.proc.kill()
            job_a.proc.wait()


def markers(ws):
    return {n: os.path.getsize(os.path.join(ws, n)) for n in ("daemon.marker", "stubborn.marker")
            if os.path.exists(os.path.join(ws, n))}


def lifetime(ctx, how):
    """Runs LIFETIME_SCRIPT (a setsid daemon, a SIGTERM-ignoring child, a main
    that exits or hangs) and ends it `how`; then nothing of it may be left."""
    ws = ctx.workspace()
    mark = ctx.mark(f"life-{how}")
    path = ctx.script(ws, LIFETIME_SCRIPT, "life.py", body=False)
    extra = ["--timeout", "2"] if how == "timeout" else []
    mode = {"exit": "exit", "sigterm": "ignore-term"}.get(how, "hang")
    job = ctx.start([PY, path, mark, mode], ws, extra=extra)
    launcher_pid = job.proc.pid
    try:
        job.wait_started()
        check(wait_until(lambda: os.path.exists(os.path.join(ws, "running")), 20),
              "the job started its daemon and its SIGTERM-ignoring child")
        if how != "exit":
            n = len(host_pids_with(mark))
            check(n >= 3, f"host: ps shows the job's {n} processes while it runs")
            check(wait_until(lambda: all(v >= 3 for v in markers(ws).values()), 20),
                  f"host: both markers grow while the job runs ({markers(ws)})")
        if how == "sigterm":
            job.proc.send_signal(signal.SIGTERM)
        elif how == "sigkill":
            job.proc.kill()
        res = job.finish(timeout=30)
    finally:
        if job.proc.poll() is None:
            job.proc.kill()
    wait_until(lambda: not host_pids_with(mark), 10)
    left = host_pids_with(mark)
    check(not left, f"host: ps shows no process of the sandbox left {left}")
    s1 = markers(ws)
    time.sleep(1.0)
    s2 = markers(ws)
    check(len(s1) == 2 and s1 == s2, f"host: the markers stopped growing ({s1} -> {s2})")
    if how == "exit":
        check(res.rc == 0 and res.exit and res.exit["exit_code"] == 0 and
              res.exit["limit"] is None, "the launcher returned the script's 0", res.text())
    elif how == "timeout":
        check(res.rc == 137 and res.exit and res.exit["signal"] == 9 and
              res.exit["limit"] == "time", "--timeout: rc 137, signal 9, limit \"time\"",
              res.text())
    elif how == "sigterm":
        check(res.rc in (137, 143) and res.exit is not None,
              f"SIGTERM to the launcher: it reports the end (rc {res.rc})", res.text())
    elif how == "sigkill":
        check(res.rc == -signal.SIGKILL, "the launcher itself was SIGKILLed", res.text())
    left_cg = {}
    for c in sorted(delegable_controllers()):
        d = find_run_cgroup(launcher_pid, c)
        if d:
            with open(os.path.join(d, "cgroup.procs")) as f:
                left_cg[d] = f.read().split()
    check(not any(left_cg.values()), f"host: no process is left in the run's cgroups {left_cg}")
    if how == "sigkill" and left_cg:
        ctx.run(["/bin/true"], ctx.workspace("ws-next"))
        gone = [d for d in left_cg if not os.path.exists(d)]
        check(len(gone) == len(left_cg),
              f"host: the next launch removed the killed launcher's cgroups {sorted(left_cg)}")
    # Control: the same script outside any sandbox, its main process ended
    # the same way (exit, or SIGKILL standing for the launcher's kill),
    # leaves the daemon and the stubborn child running.
    cdir = ctx.workspace("ctl", owner=NOBODY)
    cpath = ctx.script(cdir, LIFETIME_SCRIPT, "life.py", body=False)
    cmark = ctx.mark(f"life-ctl-{how}")
    p = subprocess.Popen([PY, cpath, cmark, "exit" if how == "exit" else "hang"], cwd=cdir,
                         user=NOBODY, group=NOBODY, extra_groups=[], env=ctx.launcher_env)
    try:
        check(wait_until(lambda: os.path.exists(os.path.join(cdir, "running")), 20),
              "control: the unsandboxed script started")
        if how != "exit":
            p.kill()
        p.wait()
        s1 = markers(cdir)
        grew = wait_until(lambda: all(markers(cdir)[k] > v for k, v in s1.items()), 10)
        alive = host_pids_with(cmark)
        check(grew and len(alive) >= 2,
              f"control: outside a sandbox its daemon and child survive ({len(alive)} left)")
    finally:
        kill_pids(host_pids_with(cmark))


@case("P4", "a double-forked setsid daemon dies with the job (normal exit)")
def t_p4(ctx):
    lifetime(ctx, "exit")


@case("P5", "SIGKILL of the launcher kills the whole sandbox (parent death)")
def t_p5(ctx):
    lifetime(ctx, "sigkill")


@case("lifetime.timeout", "--timeout kills daemon, stubborn child and hung main; limit \"time\"")
def t_life_timeout(ctx):
    lifetime(ctx, "timeout")


@case("lifetime.sigterm", "SIGTERM to the launcher ends a SIGTERM-ignoring job and its daemon")
def t_life_sigterm(ctx):
    lifetime(ctx, "sigterm")


FORK_CODE = r'''
n = int(ARGS[0])
r, w = os.pipe()
kids, err = [], None
for i in range(n):
    try:
        pid = os.fork()
    except OSError as e:
        err = en(e.errno)
        break
    if pid == 0:
        os.close(w)
        os.read(r, 1)
        os._exit(0)
    kids.append(pid)
R["forked"], R["error"] = len(kids), err
touch("holding")
wait_for("release")
os.close(w)
for k in kids:
    os.waitpid(k, 0)
'''


@case("P6", "a (bounded) fork bomb stops at pids.max; host and other jobs can still fork")
def t_p6(ctx):
    need_cgroups(ctx, "pids")
    limit = ctx.default["cgroup"]["pids_max"]
    n = limit + 64
    ws = ctx.workspace()
    path = ctx.script(ws, FORK_CODE)
    job = ctx.start([PY, path, str(n)], ws)
    try:
        job.wait_started()
        check(wait_until(lambda: os.path.exists(os.path.join(ws, "holding")), 60),
              "the bomb is holding its processes")
        check(subprocess.run(["/bin/true"]).returncode == 0, "host: the host can still fork")
        other = ctx.run(["/bin/sh", "-c", "/bin/true & wait"], ctx.workspace("ws-other"))
        check(other.rc == 0, "another job can still fork", other.text())
        with open(os.path.join(ws, "release"), "w"):
            pass
        res = job.finish()
    finally:
        if job.proc.poll() is None:
            job.proc.kill()
    r = res.result
    check_cgroups_used(res, "pids")
    check(r["error"] == "EAGAIN" and r["forked"] < n,
          f"inside: fork failed with {r['error']} after {r['forked']} of {n}", r)
    check(res.exit["limit"] == "pids", f"the exit event names the pids limit ({res.exit['limit']})")
    ws2 = ctx.workspace("ws-ctl")
    path = ctx.script(ws2, FORK_CODE)
    with open(os.path.join(ws2, "release"), "w"):
        pass
    ctl = ctx.run([PY, path, str(n)], ws2,
                  policy=ctx.policy(compose(set_key("cgroup.pids_max", None),
                                            set_key("rlimits.nproc", None)), "no-pids"))
    check(ctl.result["forked"] == n and ctl.result["error"] is None,
          f"control: without pids.max all {n} forks succeed", ctl.result)


ZOMBIE_CODE = r'''
if ARGS[0] == "subreaper":
    libc.prctl(36, 1, 0, 0, 0)      # PR_SET_CHILD_SUBREAPER: orphans come to us
for i in range(100):
    pid = os.fork()
    if pid == 0:
        if os.fork() == 0:
            os._exit(0)             # an orphan, reparented and never waited by us
        os._exit(0)
    os.waitpid(pid, 0)

def zombies():
    n = 0
    for p in os.listdir("/proc"):
        try:
            if p.isdigit() and open("/proc/%s/stat" % p).read().rsplit(")", 1)[1].split()[0] == "Z":
                n += 1
        except OSError:
            pass
    return n

end = time.monotonic() + 10
while zombies() and time.monotonic() < end and ARGS[0] != "subreaper":
    time.sleep(0.05)
time.sleep(0.2)
R["zombies"] = zombies()
'''


@case("P7", "orphaned zombies are reaped by the sandbox's init")
def t_p7(ctx):
    ws = ctx.workspace()
    r = ctx.probe(ws, ZOMBIE_CODE, args=["plain"]).result
    check(r["zombies"] == 0, f"inside: {r['zombies']} zombies left after 100 orphans exited")
    ctl = ctx.probe(ws, ZOMBIE_CODE, args=["subreaper"]).result
    check(ctl["zombies"] >= 100,
          f"control: when the orphans go to a non-reaping parent, the probe counts "
          f"{ctl['zombies']} zombies")


@case("P8", "pidfd_open of a host pid gives ESRCH; pidfd_getfd and kcmp are refused")
def t_p8(ctx):
    ws = ctx.workspace("ws-seccomp")
    check_seccomp(ctx, {"pidfd_getfd": {"EPERM"}, "kcmp": {"EPERM"}}, ws=ws)
    code = 'attempt("pidfd_open host", sysc, 434, int(ARGS[0]), 0)\n' \
           'attempt("pidfd_open init", sysc, 434, 1, 0)'
    me = os.getpid()
    r = ctx.probe(ws, code, args=[str(me)]).result
    check(r["pidfd_open host"] == "ESRCH", f"inside: pidfd_open({me}) -> {r['pidfd_open host']}")
    ctl = ctx.host(code, args=[str(me)]).result
    check(ctl["pidfd_open host"] == "OK", "control: outside, the same pidfd_open succeeds")


PVM_CODE = r'''
class iovec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]
buf = ctypes.create_string_buffer(b"original", 16)
src = ctypes.create_string_buffer(b"PWNED!!!", 16)
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    os.close(w)
    os.read(r, 1)
    os._exit(0 if buf.value == b"PWNED!!!" else 3)
local = iovec(ctypes.cast(src, ctypes.c_void_p), 8)
remote = iovec(ctypes.cast(buf, ctypes.c_void_p), 8)
attempt("process_vm_writev child", sysc, 311, pid, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0)
attempt("process_vm_writev init", sysc, 311, 1, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0)
attempt("open /proc/1/mem", lambda: open("/proc/1/mem", "r+b"))
os.close(w)
_, st = os.waitpid(pid, 0)
R["child changed"] = os.WIFEXITED(st) and os.WEXITSTATUS(st) == 0
'''


@case("P9", "process_vm_writev and /proc/1/mem cannot touch init or siblings")
def t_p9(ctx):
    ws = ctx.workspace("ws-seccomp")
    check_seccomp(ctx, {"process_vm_writev": {"EPERM"}, "process_vm_readv": {"EPERM"}}, ws=ws)
    r = ctx.probe(ws, PVM_CODE).result
    check(r["process_vm_writev child"] == "EPERM" and r["process_vm_writev init"] == "EPERM",
          "inside: process_vm_writev -> EPERM", r)
    check(r["open /proc/1/mem"] in INIT_HIDDEN, f"inside: /proc/1/mem -> {r['open /proc/1/mem']}")
    check(not r["child changed"], "inside: the sibling's memory is unchanged")
    ctl = ctx.probe(ws, PVM_CODE, policy=ctx.policy(drop_seccomp, "no-seccomp")).result
    check(ctl["process_vm_writev child"] == "OK" and ctl["child changed"],
          "control: without the filter the same write changes the sibling's memory", ctl)


TIOCSTI_CODE = r'''
import fcntl, termios
R["isatty0"] = os.isatty(0)
attempt("TIOCSTI fd0", fcntl.ioctl, 0, termios.TIOCSTI, b"x")
attempt("TIOCSTI high bits fd0", sysc, 16, 0, (0x123 << 32) | 0x5412, b"x")
attempt("TIOCLINUX fd0", fcntl.ioctl, 0, 0x541C, b"\x00" * 8)
attempt("TIOCSTI fd2", fcntl.ioctl, 2, termios.TIOCSTI, b"x")
attempt("open /dev/tty", lambda: open("/dev/tty", "r+b"))
'''


@case("P10", "TIOCSTI/TIOCLINUX (also with high bits) are refused; no controlling tty")
def t_p10(ctx):
    ws = ctx.workspace("ws-seccomp")
    check_seccomp(ctx, {"ioctl_tiocsti": {"EPERM"}, "ioctl_tiocsti_highbits": {"EPERM"},
                        "ioctl_tioclinux": {"EPERM"}, "ioctl_tioclinux_highbits": {"EPERM"}},
                  allowed=["ioctl_tcgets"], ws=ws)
    master, slave = pty.openpty()
    try:
        tty.setraw(slave)
        os.set_blocking(slave, False)
        r = ctx.probe(ws, TIOCSTI_CODE, stdin=slave).result
        check(r["isatty0"], "inside: fd 0 is the host's pty")
        for k in ("TIOCSTI fd0", "TIOCSTI high bits fd0", "TIOCLINUX fd0", "TIOCSTI fd2"):
            check(r[k] == "EPERM", f"inside: {k} -> {r[k]}")
        check(r["open /dev/tty"] in ("ENXIO", "ENOENT"), f"inside: /dev/tty -> {r['open /dev/tty']}")
        try:
            injected = os.read(slave, 100)
        except BlockingIOError:
            injected = b""
        check(injected == b"", "host: nothing was pushed into the terminal's input")
        # Control (our own pty, harmless): root outside the sandbox can inject.
        import fcntl
        import termios
        fcntl.ioctl(slave, termios.TIOCSTI, b"x")
        check(os.read(slave, 100) == b"x", "control: outside the sandbox TIOCSTI injects input")
    finally:
        os.close(master)
        os.close(slave)


PTS_CODE = r"""
import fcntl, pty, stat, termios
R["pts"] = sorted(os.listdir("/dev/pts"))
R["pts dev"] = os.stat("/dev/pts").st_dev
R["ptmx"] = os.readlink("/dev/ptmx")
m, s = os.openpty()
R["ttyname"] = os.ttyname(s)
os.write(m, b"line\n")
R["echo"] = os.read(s, 100).decode()
R["tty mode"] = oct(stat.S_IMODE(os.stat(R["ttyname"]).st_mode))
R["mount"] = [l.split(" - ")[0].split()[5] + " " + l.split(" - ")[1].strip()
              for l in open("/proc/self/mountinfo") if l.split()[4] == "/dev/pts"]
# A child with the new terminal as its controlling tty pushes input into
# it: the filter refuses TIOCSTI whatever the terminal.
pid, fd = pty.fork()
if pid == 0:
    try:
        fcntl.ioctl(0, termios.TIOCSTI, b"x")
        r = "OK"
    except OSError as e:
        r = en(e.errno)
    os.write(1, ("TIOCSTI=" + r + "\n").encode())
    os._exit(0)
out = b""
while True:
    try:
        chunk = os.read(fd, 100)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
os.waitpid(pid, 0)
os.close(fd)
R["TIOCSTI own tty"] = out.decode().strip().split("TIOCSTI=")[-1]
held = []
while len(held) < int(ARGS[0]):
    try:
        held.append(os.openpty())
    except OSError as e:
        R["openpty error"] = en(e.errno)
        break
R["ptys held"] = len(held) + 1
"""


@case("P10.pts", "a private devpts: terminals work, the host's are not in it, TIOCSTI stays "
      "refused on them, at most 64 at once")
def t_p10_pts(ctx):
    ws = ctx.workspace()
    host_master, host_slave = pty.openpty()
    try:
        host_name = os.ttyname(host_slave)
        r = ctx.probe(ws, PTS_CODE, args=["100"]).result
        host_dev = os.stat("/dev/pts").st_dev
        check(r["pts"] == ["ptmx"], f"inside: a fresh /dev/pts holds no terminal ({r['pts']}), "
              f"though the host has {host_name}")
        check(r["pts dev"] != host_dev, "inside: /dev/pts is another devpts instance than the "
              "host's (a different device)")
        check(r["ptmx"] == "pts/ptmx", f"inside: /dev/ptmx -> {r['ptmx']}")
        check(r["ttyname"].startswith("/dev/pts/") and r["echo"] == "line\n",
              f"inside: openpty gives {r['ttyname']}, and a line written to the master reads "
              f"back from the slave ({r['echo']!r})")
        check(r["tty mode"] == "0o620", f"inside: terminals are made mode 620 ({r['tty mode']})")
        check(len(r["mount"]) == 1 and r["mount"][0].startswith("rw,nosuid,noexec") and
              " devpts " in r["mount"][0] and "ptmxmode=666" in r["mount"][0] and
              "max=64" in r["mount"][0], f"inside: devpts mounted nosuid,noexec,max=64: {r['mount']}")
        check(r["TIOCSTI own tty"] == "EPERM",
              f"inside: TIOCSTI on the sandbox's own controlling terminal -> {r['TIOCSTI own tty']}")
        check(r["ptys held"] == 64 and r.get("openpty error") == "ENOSPC",
              f"inside: {r['ptys held']} terminals at once, then {r.get('openpty error')}")
    finally:
        os.close(host_master)
        os.close(host_slave)
    # Controls: without the filter the same TIOCSTI goes through (unless this
    # kernel refuses it to everyone: dev.tty.legacy_tiocsti = 0), and the
    # host's own instance holds more than 64 terminals at once.
    try:
        with open("/proc/sys/dev/tty/legacy_tiocsti") as f:
            legacy = f.read().strip() != "0"
    except FileNotFoundError:
        legacy = True
    ctl = ctx.probe(ws, PTS_CODE, args=["1"], policy=ctx.policy(drop_seccomp, "no-seccomp")).result
    want = "OK" if legacy else "EIO"
    check(ctl["TIOCSTI own tty"] == want,
          f"control: without the filter TIOCSTI on its own terminal -> {ctl['TIOCSTI own tty']} "
          f"(expected {want}: legacy_tiocsti {'on' if legacy else 'off'})")
    held = []
    try:
        for _ in range(65):
            held.append(pty.openpty())
        check(len(held) == 65, "control: the host's devpts holds 65 terminals at once")
    finally:
        for m, sl in held:
            os.close(m)
            os.close(sl)


THREAD_CODE = r'''
import threading

n = int(ARGS[0])
ev = threading.Event()
ts, err = [], None
for i in range(n):
    t = threading.Thread(target=ev.wait)
    try:
        t.start()
    except RuntimeError as e:
        err = str(e)
        break
    ts.append(t)
R["threads"], R["error"] = len(ts), err
ev.set()
for t in ts:
    t.join()
'''


@case("P11", "a (bounded) thread bomb stops at pids.max")
def t_p11(ctx):
    need_cgroups(ctx, "pids")
    n = ctx.default["cgroup"]["pids_max"] + 64
    ws = ctx.workspace()
    res = ctx.probe(ws, THREAD_CODE, args=[str(n)])
    r = res.result
    check_cgroups_used(res, "pids")
    check(r["threads"] < n and r["error"], f"inside: thread {r['threads']} of {n} failed: {r['error']}")
    check(res.exit["limit"] == "pids", f"the exit event names the pids limit ({res.exit['limit']})")
    ctl = ctx.probe(ws, THREAD_CODE, args=[str(n)],
                    policy=ctx.policy(compose(set_key("cgroup.pids_max", None),
                                              set_key("rlimits.nproc", None)), "no-pids")).result
    check(ctl["threads"] == n, f"control: without pids.max all {n} threads start", ctl)
