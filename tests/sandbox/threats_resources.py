"""Sandbox cases of THREATS.md 1c: resources; registered in threatlib.CASES."""
from threatlib import *  # noqa: F401,F403
from threats_fs import *  # noqa: F401,F403
from threats_process import *  # noqa: F401,F403

# ==========================================================================
# 1c Resources

MEM_CODE = r'''
if ARGS[0] == "huge":
    import mmap
    attempt("bytearray 8GiB", lambda: bytearray(8 << 30))
    attempt("mmap 8GiB", lambda: mmap.mmap(-1, 8 << 30))      # reserved, never touched
elif ARGS[0] == "mmap":
    import mmap
    attempt("mmap 8GiB", lambda: mmap.mmap(-1, 8 << 30))
else:
    target, chunks, total = int(ARGS[1]), [], 0
    try:
        while total < target:
            chunks.append(b"\x01" * (16 << 20))     # written, so really resident
            total += 16 << 20
        R["grow"] = "OK"
    except MemoryError:
        R["grow"] = "MemoryError"
    R["total"] = total
'''


def no_memory_limits(p):
    p["cgroup"]["memory_max_bytes"] = None
    p["cgroup"]["swap_max_bytes"] = None
    p["rlimits"]["as_bytes"] = None


@case("R1", "memory: RLIMIT_AS gives MemoryError, growth is OOM-killed at memory.max")
def t_r1(ctx):
    need_cgroups(ctx, "memory")
    ws = ctx.workspace()
    mem = ctx.default["cgroup"]["memory_max_bytes"]
    r = ctx.probe(ws, MEM_CODE, args=["huge"]).result
    check(r["bytearray 8GiB"] == "MemoryError", f"inside: bytearray(8 GiB) -> {r['bytearray 8GiB']}")
    check(r["mmap 8GiB"] == "ENOMEM", f"inside: an 8 GiB mapping -> {r['mmap 8GiB']} (RLIMIT_AS)")
    # Pure growth, with RLIMIT_AS out of the way so that memory.max acts.
    pol = ctx.policy(set_key("rlimits.as_bytes", None), "no-as")
    path = ctx.script(ws, MEM_CODE, "grow.py")
    job = ctx.start([PY, path, "grow", str(2 * mem)], ws, policy=pol)
    launcher_pid = job.proc.pid
    res = job.finish()
    check_cgroups_used(res, "memory")
    check(res.rc == 137 and res.exit and res.exit["signal"] == 9 and res.exit["limit"] == "memory",
          "growth past memory.max: OOM-killed, the exit event names the memory limit", res.text())
    check(find_run_cgroup(launcher_pid, "memory") is None,
          "host: the launcher survived, reported and removed the run's memory cgroup")
    # Control: without the memory limits the same (bounded) growth succeeds.
    weak = ctx.policy(no_memory_limits, "no-memory-limits")
    ctl = ctx.probe(ws, MEM_CODE, args=["grow", str(mem + mem // 2)], policy=weak)
    check(ctl.rc == 0 and ctl.result["grow"] == "OK",
          f"control: without limits the job grows to {(mem + mem // 2) >> 20} MiB", ctl.text())
    ctl = ctx.probe(ws, MEM_CODE, args=["mmap"], policy=weak).result
    check(ctl["mmap 8GiB"] == "OK", "control: without RLIMIT_AS the same 8 GiB mapping succeeds")


FILL_CODE = r'''
def fill(path, limit):
    written, chunk = 0, b"\1" * (1 << 20)
    try:
        with open(path, "wb") as f:
            while written < limit:
                f.write(chunk)
                f.flush()
                written += len(chunk)
        return "OK", written
    except OSError as e:
        return en(e.errno), written
for path, limit in zip(ARGS[0::2], ARGS[1::2]):
    R[path] = fill(path, int(limit))
'''


@case("R2", "/tmp and /dev/shm stop at their size with ENOSPC; tmpfs pages count in the job's memory")
def t_r2(ctx):
    ws = ctx.workspace()
    tmp, shm = ctx.default["tmp_size_bytes"], ctx.default["shm_size_bytes"]
    args = ["/tmp/fill", str(tmp + 8 * MiB), "/dev/shm/fill", str(shm + 8 * MiB)]
    res = ctx.probe(ws, FILL_CODE, args=args)
    r = res.result
    check(r["/tmp/fill"][0] == "ENOSPC" and r["/tmp/fill"][1] <= tmp,
          f"inside: /tmp stops at {r['/tmp/fill'][1]} bytes with {r['/tmp/fill'][0]}")
    check(r["/dev/shm/fill"][0] == "ENOSPC" and r["/dev/shm/fill"][1] <= shm,
          f"inside: /dev/shm stops at {r['/dev/shm/fill'][1]} bytes with {r['/dev/shm/fill'][0]}")
    if "memory" in delegable_controllers():
        peak = res.exit.get("cgroup_memory_peak_bytes") or 0
        check(peak >= r["/tmp/fill"][1],
              f"host: the job's memory cgroup was charged the tmpfs pages (peak {peak})", res.text())
    ctl = ctx.probe(ws, FILL_CODE, args=args, policy=ctx.policy(
        compose(set_key("tmp_size_bytes", 4 * tmp), set_key("shm_size_bytes", 4 * shm)), "big")).result
    check(ctl["/tmp/fill"][0] == "OK" and ctl["/dev/shm/fill"][0] == "OK",
          "control: with larger tmpfs sizes the same writes succeed", ctl)


@case("R3", "one huge file stops at RLIMIT_FSIZE with EFBIG")
def t_r3(ctx):
    ws = ctx.workspace()
    dflt = ctx.default["rlimits"].get("fsize_bytes")
    check(isinstance(dflt, int) and dflt > 0, f"the policy sets RLIMIT_FSIZE ({dflt})")
    limit = 8 * MiB   # lowered from the default for speed; the mechanism is the same
    code = FILL_CODE + '\nimport signal as _s\nR["SIGXFSZ"] = str(_s.getsignal(_s.SIGXFSZ))'
    r = ctx.probe(ws, code, args=["big", str(limit + MiB)],
                  policy=ctx.policy(set_key("rlimits.fsize_bytes", limit), "fsize")).result
    check(r["big"][0] == "EFBIG", f"inside: writing past RLIMIT_FSIZE -> {r['big'][0]} "
                                  f"(Python ignores SIGXFSZ: {r['SIGXFSZ']})")
    check(os.path.getsize(os.path.join(ws, "big")) == limit,
          f"host: the file is exactly {limit} bytes")
    ctl = ctx.probe(ws, code, args=["big", str(limit + MiB)],
                    policy=ctx.policy(set_key("rlimits.fsize_bytes", None), "no-fsize")).result
    check(ctl["big"][0] == "OK" and os.path.getsize(os.path.join(ws, "big")) == limit + MiB,
          "control: without RLIMIT_FSIZE the same write goes through", ctl)


FLOOD_CODE = r'''
total, chunk = int(ARGS[0]), b"\xff\xfe" * 32768        # invalid UTF-8, no newline
sent = 0
while sent < total:
    os.write(1, chunk)
    os.write(2, chunk[:1024])
    sent += len(chunk) + 1024
'''


@case("R4", "a stdout/stderr flood is cut at output_bytes (limit \"output\")")
def t_r4(ctx):
    ws = ctx.workspace()
    cap = 1 * MiB
    path = ctx.script(ws, FLOOD_CODE, "flood.py", body=False)
    pol = ctx.policy(set_key("limits.output_bytes", cap), "output-cap")
    res = ctx.run([PY, path, str(1 << 30)], ws, policy=pol)
    # The launcher's own closing message is not the script's output.
    err = re.sub(rb"python-mcp-sandbox: [^\n]*\n", b"", res.err)
    got = len(res.out) + len(err)
    check(res.exit and res.exit["limit"] == "output" and res.rc == 137,
          "inside: the 1 GiB flood was killed; the exit event names the output limit",
          res.text())
    check(got <= cap and res.exit["output_bytes"] == cap,
          f"host: {got} bytes reached the caller, output_bytes {res.exit['output_bytes']} == cap")
    if ctx.default["limits"].get("output_bytes", 0) == 0:
        log("# note: the default policy sets no launcher-side output cap (output_bytes 0); "
            "the server caps output itself")
    ctl = ctx.run([PY, path, str(4 * cap)], ws, policy=ctx.policy(
        set_key("limits.output_bytes", 0), "no-output-cap"))
    check(ctl.rc == 0 and len(ctl.out) + len(ctl.err) > 4 * cap,
          f"control: without the cap all {len(ctl.out) + len(ctl.err)} bytes come through")


NOFILE_CODE = r'''
fds, err = [], None
try:
    while len(fds) < int(ARGS[0]):
        fds.append(os.open("/dev/null", os.O_RDONLY))
except OSError as e:
    err = en(e.errno)
R["opened"], R["error"] = len(fds), err
'''


@case("R5", "opening fds stops at RLIMIT_NOFILE with EMFILE")
def t_r5(ctx):
    ws = ctx.workspace()
    limit = ctx.default["rlimits"]["nofile"]
    r = ctx.probe(ws, NOFILE_CODE, args=[str(4 * limit)]).result
    check(r["error"] == "EMFILE" and r["opened"] < limit,
          f"inside: EMFILE after {r['opened']} fds (nofile {limit})", r)
    ctl = ctx.probe(ws, NOFILE_CODE, args=[str(2 * limit)],
                    policy=ctx.policy(set_key("rlimits.nofile", 4 * limit), "nofile")).result
    check(ctl["error"] is None and ctl["opened"] == 2 * limit,
          f"control: with a higher nofile the same job opens {2 * limit}", ctl)


SPIN_CODE = r'''
signal.signal(signal.SIGXCPU, lambda *a: None)     # must not save it
n = int(ARGS[0]) if ARGS else 0
for i in range(n):
    if os.fork() == 0:
        while True:
            pass
touch("spinning")
if n:
    wait_for("stop")
    os._exit(0)
while True:
    pass
'''


@case("R6", "CPU: RLIMIT_CPU kills a spinner that handles SIGXCPU; cpu.max throttles processes")
def t_r6(ctx):
    ws = ctx.workspace()
    dflt = ctx.default["rlimits"].get("cpu_seconds")
    check(isinstance(dflt, int) and dflt > 0, f"the policy sets RLIMIT_CPU ({dflt}); lowered "
                                              "to 1 s here")
    path = ctx.script(ws, SPIN_CODE, "spin.py", body=False)
    res = ctx.run([PY, path], ws, policy=ctx.policy(set_key("rlimits.cpu_seconds", 1), "cpu1"))
    check(res.rc == 137 and res.exit["signal"] == 9 and res.exit["limit"] == "cpu",
          "inside: SIGKILL at the hard RLIMIT_CPU despite a SIGXCPU handler; limit \"cpu\"",
          res.text())
    ctl = ctx.run([PY, path], ws, extra=["--timeout", "2.5"],
                  policy=ctx.policy(set_key("rlimits.cpu_seconds", None), "no-cpu"))
    check(ctl.exit and ctl.exit["limit"] == "time",
          "control: without RLIMIT_CPU the spinner runs until the wall-clock timeout", ctl.text())
    # Several spinning processes: cpu.max (here 50% of one CPU) throttles them.
    need_cgroups(ctx, "cpu")
    for label, pct in (("throttled", 50), ("control", None)):
        w = ctx.workspace(f"ws-{label}")
        p = ctx.script(w, SPIN_CODE, "spin.py", body=False)
        job = ctx.start([PY, p, "2"], w, policy=ctx.policy(
            set_key("cgroup.cpu_max_percent", pct), f"cpu-{label}"))
        try:
            st = job.wait_started()
            check(wait_until(lambda: os.path.exists(os.path.join(w, "spinning")), 20),
                  f"{label}: two processes spin")
            d = find_run_cgroup(job.proc.pid, "cpu")

            def throttled():
                try:
                    with open(os.path.join(d, "cpu.stat")) as f:
                        return dict(l.split() for l in f)["nr_throttled"] != "0"
                except (OSError, TypeError, KeyError):
                    return False
            if pct:
                check(st["cgroup"]["cpu"] in (1, 2) and d, f"the run has its cpu cgroup {d}")
                check(wait_until(throttled, 15), "host: cpu.stat shows the run throttled")
            else:
                time.sleep(1.0)
                check(st["cgroup"]["cpu"] is None and not throttled(),
                      "control: without cpu_max_percent nothing throttles the spinners")
        finally:
            with open(os.path.join(w, "stop"), "w"):
                pass
            job.finish()


@case("R7", "sleep, self-SIGSTOP and a blocked stdin read are SIGKILLed at the wall timeout")
def t_r7(ctx):
    variants = {
        "sleep": "time.sleep(1e4)",
        "sigstop": "os.kill(os.getpid(), signal.SIGSTOP)\ntime.sleep(1e4)",
        "stdin": "sys.stdin.read()",
    }
    jobs, pipes = {}, []
    for name, body in variants.items():
        ws = ctx.workspace(f"ws-{name}")
        path = ctx.script(ws, f'touch("started")\n{body}\n', f"{name}.py", body=False)
        stdin = subprocess.DEVNULL
        if name == "stdin":
            r, w = os.pipe()
            pipes += [r, w]
            stdin = r
        jobs[name] = ctx.start([PY, path], ws, extra=["--timeout", "1"], stdin=stdin)
    # The policy's own wall-clock limit works the same way.
    ws = ctx.workspace("ws-policy")
    path = ctx.script(ws, 'touch("started")\ntime.sleep(1e4)\n', "sleep.py", body=False)
    jobs["policy wall_seconds"] = ctx.start(
        [PY, path], ws, policy=ctx.policy(set_key("limits.wall_seconds", 1), "wall1"))
    try:
        for name, job in jobs.items():
            res = job.finish(timeout=60)
            check(res.rc == 137 and res.exit and res.exit["signal"] == 9 and
                  res.exit["limit"] == "time", f"{name}: SIGKILL at the timeout, limit \"time\"",
                  res.text())
    finally:
        for fd in pipes:
            os.close(fd)
    ws = ctx.workspace("ws-ctl")
    path = ctx.script(ws, "time.sleep(1.5)\n", "short.py", body=False)
    ctl = ctx.run([PY, path], ws)
    check(ctl.rc == 0 and ctl.exit["limit"] is None,
          "control: without a timeout a 1.5 s sleep (longer than the 1 s timeout) ends normally")


INOTIFY_CODE = r'''
held = {}
for name, make in (("inotify", lambda: libc.inotify_init1(0)), ("eventfd", lambda: libc.eventfd(0, 0)),
                   ("epoll", lambda: libc.epoll_create1(0))):
    fds = []
    while len(fds) < int(ARGS[0]):
        fd = make()
        if fd < 0:
            R[name + " error"] = en(ctypes.get_errno())
            break
        fds.append(fd)
    R[name] = len(fds)
    if name == "inotify":
        held[name] = fds     # keep every instance the job could get
    else:
        for fd in fds:
            os.close(fd)     # make room for the next storm
touch("holding")
wait_for("release")
'''


@case("R8", "inotify/eventfd/epoll storms: the job hits its limits, the host still works")
def t_r8(ctx):
    ws = ctx.workspace()
    path = ctx.script(ws, INOTIFY_CODE)
    job = ctx.start([PY, path, "100000"], ws)
    host = {}
    try:
        job.wait_started()
        check(wait_until(lambda: os.path.exists(os.path.join(ws, "holding")), 30),
              "the job holds its descriptors")
        libc = ctypes.CDLL(None, use_errno=True)
        for name, make in (("inotify", lambda: libc.inotify_init1(0)),
                           ("eventfd", lambda: libc.eventfd(0, 0))):
            fd = make()
            host[name] = "OK" if fd >= 0 else errno.errorcode.get(ctypes.get_errno())
            if fd >= 0:
                os.close(fd)
    finally:
        with open(os.path.join(ws, "release"), "w"):
            pass
    res = job.finish()
    r = res.result
    log(f"# inside: {r}; host (uid {os.getuid()}) meanwhile: {host}")
    check(r.get("inotify error") == "EMFILE" and r.get("eventfd error") == "EMFILE",
          "inside: inotify and eventfd storms stop with EMFILE", r)
    check(host["eventfd"] == "OK", "host: eventfd still works during the storm")
    check(host["inotify"] == "OK",
          "host: the launcher's uid can still create an inotify instance while the job "
          "holds every instance it could get (inotify limits are per user and charged to "
          "the creator of the sandbox's user namespace)", {"inside": r, "host": host})
    # Control: the probe does detect exhaustion: an unsandboxed process of an
    # otherwise unused uid runs out at its own per-user limit.
    ctl = ctx.host('''
    n = 0
    while libc.inotify_init1(0) >= 0:
        n += 1
    R["n"], R["error"] = n, en(ctypes.get_errno())
    ''', user=OTHER_UID + 1).result
    check(ctl["error"] == "EMFILE", f"control: outside, a uid runs out after {ctl['n']} instances")


IPC_CODE = r'''
key, size = int(ARGS[0]), int(ARGS[1])
libc.shmat.restype = ctypes.c_void_p
if ARGS[2] == "create":
    shmid = attempt("shmget", lambda: libc.shmget(key, size, 0o1000 | 0o600))
    R["shmid"] = shmid
    addr = libc.shmat(shmid, None, 0)
    ctypes.memset(addr, 1, size)
    R["msgget"] = libc.msgget(key, 0o1000 | 0o600) >= 0
    R["semget"] = libc.semget(key, 1, 0o1000 | 0o600) >= 0
else:
    r = libc.shmget(key, 0, 0)
    R["lookup"] = "OK" if r >= 0 else en(ctypes.get_errno())
    if ARGS[2] == "remove" and r >= 0:
        libc.shmctl(r, 0, None)
'''


def host_sysv_keys():
    keys = set()
    with open("/proc/sysvipc/shm") as f:
        next(f)
        for line in f:
            keys.add(int(line.split()[0]))
    return keys


@case("R9", "SysV IPC is private to the job's ipc namespace and charged to its memory")
def t_r9(ctx):
    ws = ctx.workspace()
    key = int.from_bytes(os.urandom(3), "big") + 0x100000
    size = 32 * MiB
    res = ctx.probe(ws, IPC_CODE, args=[str(key), str(size), "create"])
    r = res.result
    check(r["shmid"] is not None and r["msgget"] and r["semget"],
          "inside: the job can use SysV shm, msg and sem", r)
    check(key not in host_sysv_keys(), "host: the job's segment is not in the host's ipc namespace")
    if "memory" in delegable_controllers():
        peak = res.exit.get("cgroup_memory_peak_bytes") or 0
        check(peak >= size, f"host: the touched segment was charged to the job (peak {peak})")
    r2 = ctx.probe(ctx.workspace("ws-2"), IPC_CODE, args=[str(key), "0", "lookup"]).result
    check(r2["lookup"] == "ENOENT", "inside: the next job does not find the segment")
    # Control (harmless): two host processes share a segment by key.
    ctl_key = key + 1
    ctypes_libc = ctypes.CDLL(None, use_errno=True)
    shmid = ctypes_libc.shmget(ctl_key, MiB, 0o1000 | 0o600)
    try:
        c2 = ctx.host(IPC_CODE, args=[str(ctl_key), "0", "lookup"]).result
        check(shmid >= 0 and c2["lookup"] == "OK",
              "control: without an ipc namespace another process finds the segment", c2)
    finally:
        if shmid >= 0:
            ctypes_libc.shmctl(shmid, 0, None)
