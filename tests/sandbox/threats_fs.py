"""Sandbox cases of THREATS.md 1a: filesystem escape; registered in threatlib.CASES."""
from threatlib import *  # noqa: F401,F403

# ==========================================================================
# 1a Filesystem escape

@case("F1", "host secrets (/etc/shadow, keys, job state) are not in the new root")
def t_f1(ctx):
    secrets = {}
    for rel in ("secret/.ssh/id_ed25519", "secret/.aws/credentials", "state/meta/jobs.json"):
        p = ctx.path(rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(ctx.secret)
        secrets[rel] = p
    paths = ["/etc/shadow", "/etc/gshadow", "/root/.ssh/id_rsa", "/root/.ssh/id_ed25519",
             "/root/.aws/credentials"] + list(secrets.values())
    code = f'''
    secret = {ctx.secret!r}
    for p in {paths!r}:
        data = attempt(p, lambda: open(p, "rb").read())
        if data and secret.encode() in data:
            R["leaked:" + p] = True
    '''
    ws = ctx.workspace()
    res = ctx.probe(ws, code)
    r = res.result
    for p in paths:
        check(r[p] == "ENOENT", f"inside: {p} -> {r[p]} (ENOENT: not in the new root)")
    check(ctx.secret.encode() not in res.out + res.err, "no secret reached the job's output")
    # Control: the same reads outside the sandbox (as root, harmless) succeed.
    ctl = ctx.host(code).result
    check(ctl["/etc/shadow"] == "OK" and all(ctl[p] == "OK" for p in secrets.values()) and
          all(ctl.get("leaked:" + p) for p in secrets.values()),
          "control: outside the sandbox the same probe reads /etc/shadow and the secrets", ctl)


ETC_WALK_CODE = r"""
import hashlib, stat
files, links = {}, {}
for d, dirs, names in os.walk("/etc"):
    for n in dirs + names:
        p = os.path.join(d, n)
        st = os.lstat(p)
        if stat.S_ISLNK(st.st_mode):
            links[p] = os.readlink(p)
        elif stat.S_ISREG(st.st_mode):
            try:
                files[p] = hashlib.sha256(open(p, "rb").read()).hexdigest()
            except OSError as e:
                files[p] = en(e.errno)
R["top"] = sorted(os.listdir("/etc"))
R["files"], R["links"] = files, links
"""

# Files of the host that hold secrets on a Debian system: none may be
# readable in the sandbox under any name.
HOST_SECRETS = ["/etc/shadow", "/etc/gshadow", "/etc/shadow-", "/etc/gshadow-",
                "/etc/machine-id", "/etc/ssh/ssh_host_rsa_key", "/etc/ssh/ssh_host_ed25519_key",
                "/etc/ssh/ssh_host_ecdsa_key", "/etc/ssl/private/ssl-cert-snakeoil.key"]


def add_etc(*entries):
    def m(p):
        p.setdefault("etc", []).extend(entries)
    return m


@case("F1.etc", "/etc shows the policy's entries and no secret; a link in or to an entry "
      "shows nothing else of the host")
def t_f1_etc(ctx):
    ws = ctx.workspace()
    r = ctx.probe(ws, ETC_WALK_CODE).result
    own = {"passwd", "group", "hostname", "hosts"}
    listed = {e.split("/")[0] for e in ctx.default.get("etc", [])
              if os.path.lexists(os.path.join("/etc", e))}
    check(set(r["top"]) == own | listed,
          f"inside: /etc holds the launcher's files and the policy's entries this host has: "
          f"{r['top']}")
    for e in ("alternatives", "ssl/certs", "fonts", "ld.so.cache"):
        if os.path.exists(os.path.join("/etc", e)):
            check(os.path.lexists(os.path.join("/etc", e)) and
                  any(f == "/etc/" + e or f.startswith(f"/etc/{e}/") for f in
                      list(r["files"]) + list(r["links"])),
                  f"inside: /etc/{e} is there")
    secrets = {}
    for path in HOST_SECRETS:
        try:
            with open(path, "rb") as f:
                secrets[hashlib.sha256(f.read()).hexdigest()] = path
        except OSError:
            pass
    check(secrets, f"control: the host has secrets to look for ({sorted(secrets.values())})")
    leaked = {p: secrets[h] for p, h in r["files"].items() if h in secrets}
    check(not leaked, f"inside: no file of /etc has the content of a host secret ({leaked})")
    same = [p for p, h in r["files"].items() if p.split("/")[2] not in own]
    differ = [p for p in same if r["files"][p] != sha256(p)]
    check(same and not differ, f"inside: the {len(same)} bound files are the host's "
          f"({differ[:5]} differ)")
    wrong = [p for p, t in r["links"].items() if os.readlink(p) != t]
    check(r["links"] and not wrong, f"inside: the {len(r['links'])} links are the host's, "
          f"recreated with the same text ({wrong[:5]})")

    # An entry of our own in the host's /etc: a directory with links to a
    # host secret, and a link to the directory.
    tag = ctx.mark("etc")
    entry, link = f"/etc/{tag}", f"/etc/{tag}-link"
    secret = ctx.path("secret.txt")
    with open(secret, "w") as f:
        f.write(ctx.secret)
    os.chmod(secret, 0o644)
    try:
        os.makedirs(entry)
        with open(os.path.join(entry, "data"), "w") as f:
            f.write("visible")
        os.symlink(secret, os.path.join(entry, "leak"))
        os.symlink("/etc/shadow", os.path.join(entry, "shadow"))
        os.symlink(entry, link)
        code = f"""
        for n in ("data", "leak", "shadow"):
            R[n] = attempt(n, lambda: open("{entry}/" + n).read()) or R[n]
        R["leak link"] = attempt("leak link", os.readlink, "{entry}/leak")
        R["via link"] = attempt("via link", lambda: open("{link}/data").read()) or R["via link"]
        """
        r = ctx.probe(ws, code, policy=ctx.policy(add_etc(tag), "etc-entry")).result
        check(r["data"] == "visible", f"inside: the entry's file reads {r['data']}")
        check(r["leak"] == "ENOENT" and r["leak link"] == secret,
              f"inside: a link to a host file outside the policy's binds -> {r['leak']} "
              f"(the link is there: {r['leak link']})")
        check(r["shadow"] == "ENOENT", f"inside: a link to /etc/shadow -> {r['shadow']}")
        ctl = ctx.host(code).result
        check(ctl["leak"] == ctx.secret and ctl["shadow"] != "ENOENT" and
              ctl["via link"] == "visible",
              "control: outside, the same links read the secret, /etc/shadow and the entry", ctl)
        # An entry that is a link: recreated, it leads where the sandbox
        # has nothing.
        r = ctx.probe(ws, code, policy=ctx.policy(add_etc(f"{tag}-link"), "etc-link")).result
        check(r["via link"] == "ENOENT" and r["data"] == "ENOENT",
              f"inside: an entry that is a link to an unlisted directory shows nothing "
              f"({r['via link']})")
        # A link among an entry's components stops the run.
        res = ctx.run(["true"], ws, policy=ctx.policy(add_etc(f"{tag}-link/data"), "etc-via"))
        err = res.error or {}
        check(res.rc == 125 and err.get("stage") == "mount" and link in err.get("message", "")
              and err.get("error") == "Too many levels of symbolic links" and err.get("hint"),
              "inside: an entry reached through a link is refused at setup", res.text())
        ctl = ctx.probe(ws, 'R["opt"] = open("/opt/data").read()', policy=ctx.policy(add_mount(
            {"type": "bind", "source": f"{link}/data", "target": "/opt/data"}), "bind-via")).result
        check(ctl["opt"] == "visible",
              "control: the same path as a `mounts` source is followed to the file")
    finally:
        for p in (link, os.path.join(entry, "leak"), os.path.join(entry, "shadow"),
                  os.path.join(entry, "data")):
            if os.path.lexists(p):
                os.unlink(p)
        if os.path.isdir(entry):
            os.rmdir(entry)


@case("F2", "the system is read-only: os.py, /, /usr, /etc, /bin; a read-only bind gives EROFS")
def t_f2(ctx):
    ws = ctx.workspace()
    osfile = "/usr/lib/python3.11/os.py"
    before = sha256(osfile)
    tag = ctx.mark("f2")
    targets = [f"/{tag}", f"/usr/{tag}", f"/etc/{tag}", f"/bin/{tag}",
               f"/usr/lib/python3.11/{tag}.py", "/etc/passwd"]
    # A directory the sandbox user owns, bound read-only: only the mount
    # flag stands between the script and the host file.
    ro = ctx.path("robind")
    os.makedirs(ro)
    with open(os.path.join(ro, "file.txt"), "w") as f:
        f.write("original")
    for p in (ro, os.path.join(ro, "file.txt")):
        os.chown(p, NOBODY, NOBODY)
    code = f'''
    import os as _os
    attempt("append os.py", lambda: open(_os.__file__, "a").write("# pwned\\n"))
    R["os.py"] = _os.__file__
    for t in {targets!r}:
        attempt(t, lambda: open(t, "a").write("x"))
    attempt("mkdir /usr", lambda: _os.mkdir("/usr/{tag}-dir"))
    attempt("ro-bind write", lambda: open("/opt/robind/file.txt", "w").write("pwned"))
    attempt("ro-bind create", lambda: open("/opt/robind/new.txt", "w").write("pwned"))
    '''
    bind = {"type": "bind", "source": ro, "target": "/opt/robind"}
    r = ctx.probe(ws, code, policy=ctx.policy(add_mount(bind), "robind")).result
    check(r["os.py"] == osfile, f"python's os.py is {osfile}", r)
    check(r["append os.py"] in ("EROFS", "EACCES"), f"inside: append to os.py -> {r['append os.py']}")
    for t in targets:
        check(r[t] in ("EROFS", "EACCES"), f"inside: write {t} -> {r[t]}")
    for t in (f"/{tag}", f"/etc/{tag}"):
        check(r[t] == "EROFS", f"inside: {t} on the sandbox's own (read-only) root -> EROFS")
    check(r["mkdir /usr"] in ("EROFS", "EACCES"), f"inside: mkdir in /usr -> {r['mkdir /usr']}")
    check(r["ro-bind write"] == "EROFS" and r["ro-bind create"] == "EROFS",
          "inside: a read-only bind of a directory the sandbox user owns -> EROFS", r)
    check(sha256(osfile) == before, "host: sha256 of os.py unchanged")
    for t in (f"/{tag}", f"/usr/{tag}", f"/etc/{tag}", f"/bin/{tag}"):
        check(not os.path.exists(t), f"host: {t} not created")
    with open(os.path.join(ro, "file.txt")) as f:
        check(f.read() == "original", "host: the read-only bound file is unchanged")
    # Control: the same bind without "readonly" lets the write through.
    bind_rw = dict(bind, readonly=False)
    r = ctx.probe(ws, code, policy=ctx.policy(add_mount(bind_rw), "rwbind")).result
    with open(os.path.join(ro, "file.txt")) as f:
        content = f.read()
    check(r["ro-bind write"] == "OK" and content == "pwned",
          "control: with the bind writable the same write reaches the host file", r)


@case("F3", "/tmp is a private tmpfs: empty per job, ENOSPC at tmp_size_bytes")
def t_f3(ctx):
    ws = ctx.workspace()
    size = ctx.default["tmp_size_bytes"]
    tag = ctx.mark("f3")
    code = f'''
    R["initial"] = sorted(os.listdir("/tmp"))
    open("/tmp/{tag}", "w").write("x")
    written, chunk = 0, b"\\0" * (1 << 20)
    try:
        with open("/tmp/fill", "wb") as f:
            while written < {size} + (8 << 20):
                f.write(chunk)
                f.flush()
                written += len(chunk)
        R["fill"] = "OK"
    except OSError as e:
        R["fill"] = en(e.errno)
    R["written"] = written
    '''
    r = ctx.probe(ws, code).result
    check(r["initial"] == [], "inside: /tmp starts empty", r)
    check(r["fill"] == "ENOSPC", f"inside: filling /tmp stops with {r['fill']} (ENOSPC)")
    check(r["written"] <= size, f"inside: at most tmp_size_bytes ({r['written']} <= {size})")
    r2 = ctx.probe(ws, 'R["initial"] = sorted(os.listdir("/tmp"))').result
    check(r2["initial"] == [], "inside: the next job's /tmp is empty again", r2)
    check(not os.path.exists(f"/tmp/{tag}"), "host: nothing was written to the host's /tmp")
    r3 = ctx.probe(ws, code, policy=ctx.policy(set_key("tmp_size_bytes", 4 * size), "bigtmp"))
    check(r3.result["fill"] == "OK",
          "control: with a larger tmp_size_bytes the same write does not hit ENOSPC", r3.result)


def openat2_beneath(dirfd, name):
    """openat2(dirfd, name, O_RDONLY, RESOLVE_BENEATH|NO_SYMLINKS|NO_MAGICLINKS): how the
    server opens job outputs."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    how = (ctypes.c_uint64 * 3)(os.O_RDONLY | os.O_CLOEXEC, 0, 0x08 | 0x04 | 0x02)
    fd = libc.syscall(ctypes.c_long(437), ctypes.c_long(dirfd), ctypes.c_char_p(name.encode()),
                      ctypes.byref(how), ctypes.c_long(24))
    if fd < 0:
        return errno.errorcode.get(ctypes.get_errno(), "?")
    os.close(fd)
    return "OK"


@case("F4", "symlinks in the workspace lead nowhere inside; openat2 BENEATH refuses them")
def t_f4(ctx):
    ws = ctx.workspace()
    outside = ctx.path("outside")
    os.makedirs(outside)
    target = os.path.join(outside, "target.txt")
    with open(target, "w") as f:
        f.write("original")
    code = f'''
    os.symlink({target!r}, "escape.txt")
    attempt("write through symlink", lambda: open("escape.txt", "w").write("pwned"))
    os.symlink("/etc/passwd", "out.txt")
    os.symlink("/proc/1/root/etc/shadow", "magic.txt")
    attempt("read magic link", lambda: open("magic.txt").read())
    '''
    r = ctx.probe(ws, code).result
    check(r["write through symlink"] == "ENOENT",
          "inside: writing through a symlink to a host path -> ENOENT", r)
    check(r["read magic link"] in ("EACCES", "ENOENT"),
          f"inside: /proc/1/root through a symlink -> {r['read magic link']}")
    with open(target) as f:
        check(f.read() == "original", "host: the symlink's target is unchanged")
    check(os.path.islink(os.path.join(ws, "out.txt")), "host: the job left out.txt -> /etc/passwd")
    dfd = os.open(ws, os.O_PATH | os.O_DIRECTORY)
    try:
        for name in ("out.txt", "magic.txt", "escape.txt"):
            got = openat2_beneath(dfd, name)
            check(got in ("ELOOP", "EXDEV"),
                  f"host: openat2 RESOLVE_BENEATH|NO_SYMLINKS refuses {name} ({got}); "
                  "the server's own refusal is tested with the server")
    finally:
        os.close(dfd)
    # Control: outside the sandbox the same symlinks work.
    with open(os.path.join(ws, "out.txt")) as f:
        check("root:" in f.read(), "control: a plain open follows out.txt to the host's /etc/passwd")
    ctl = ctx.host('attempt("w", lambda: open("escape.txt", "w").write("pwned"))', cwd=ws).result
    with open(target) as f:
        check(ctl["w"] == "OK" and f.read() == "pwned",
              "control: outside the sandbox the write through escape.txt reaches the host file")


def renameat2_exchange(a, b):
    libc = ctypes.CDLL(None, use_errno=True)
    r = libc.renameat2(-100, a.encode(), -100, b.encode(), 2)  # RENAME_EXCHANGE
    if r != 0:
        raise OSError(ctypes.get_errno(), "renameat2")


@case("F5", "a workspace path with a symlinked or swapped component is canonicalized or refused")
def t_f5(ctx):
    roots = ctx.path("roots")
    outside = ctx.path("outside")
    os.makedirs(os.path.join(roots, "real", "ws"))
    os.makedirs(os.path.join(outside, "ws"))
    os.chmod(os.path.join(outside, "ws"), 0o777)
    pol = ctx.policy(set_key("workspace.roots", [roots]), "roots")
    # 1. A symlinked component: the launcher uses the canonical path.
    os.symlink("real", os.path.join(roots, "link"))
    given = os.path.join(roots, "link", "ws")
    canon = os.path.join(roots, "real", "ws")
    ctx.script(canon, 'R["cwd"] = os.getcwd(); touch("hit")')
    res = ctx.run([PY, "probe.py"], given, policy=pol)
    check(res.rc == 0 and res.started["workspace"] == canon,
          f"a symlinked component: the started event names the canonical {canon}", res.text())
    check(res.result["cwd"] == canon and os.path.exists(os.path.join(canon, "hit")),
          "inside: the workspace is mounted at its canonical path", res.result)
    # 2. Swapped for a symlink leading out of the roots between jobs.
    os.makedirs(os.path.join(roots, "a", "ws"))
    res = ctx.run(["/bin/true"], os.path.join(roots, "a", "ws"), policy=pol)
    check(res.rc == 0, "job 1 in roots/a/ws runs", res.text())
    os.rename(os.path.join(roots, "a"), os.path.join(roots, "a.old"))
    os.symlink(outside, os.path.join(roots, "a"))
    res = ctx.run(["/bin/true"], os.path.join(roots, "a", "ws"), policy=pol)
    check(res.rc == 125 and res.error and res.error["stage"] == "workspace",
          "after the swap to a symlink leading outside the roots: refused at stage workspace",
          res.text())
    # 3. The race itself: a thread keeps exchanging roots/r (a real directory)
    # with a symlink to the outside directory while jobs start.
    os.makedirs(os.path.join(roots, "r", "ws"))
    os.chmod(os.path.join(roots, "r", "ws"), 0o777)
    os.symlink(outside, os.path.join(roots, "r.swap"))
    stop = threading.Event()
    flips = [0]

    def flipper():
        while not stop.is_set():
            renameat2_exchange(os.path.join(roots, "r"), os.path.join(roots, "r.swap"))
            flips[0] += 1

    th = threading.Thread(target=flipper)
    th.start()
    outcomes = {}
    try:
        for i in range(40):
            wsp = os.path.join(roots, "r", "ws")
            res = ctx.run(["/bin/sh", "-c", f"echo > hit-{i}"], wsp, policy=pol)
            key = "ran" if res.rc == 0 else \
                f"{res.rc}:{(res.error or {}).get('stage')}:{(res.error or {}).get('error')}"
            outcomes[key] = outcomes.get(key, 0) + 1
        # Control: a path-following writer racing the same swap lands
        # outside sooner or later.  How soon depends on the machine's load,
        # so it races until the first landing, bounded in tries and time.
        followed, tries, deadline = 0, 0, time.time() + 15
        while followed == 0 and tries < 20000 and time.time() < deadline:
            for _ in range(100):
                try:
                    with open(os.path.join(roots, "r", "ws", f"ctl-{tries}"), "w"):
                        pass
                except OSError:
                    pass
                tries += 1
            followed = len([n for n in os.listdir(os.path.join(outside, "ws"))
                            if n.startswith("ctl-")])
    finally:
        stop.set()
        th.join()
    log(f"# race outcomes over 40 launches ({flips[0]} swaps): {outcomes}")
    leaked = [n for n in os.listdir(os.path.join(outside, "ws")) if n.startswith("hit-")]
    check(not leaked, "host: no job ever wrote into the directory outside the roots", leaked)
    check(all(k == "ran" or k.startswith("125:workspace") for k in outcomes),
          "every launch either ran in the real workspace or was refused at stage workspace",
          outcomes)
    check(followed > 0, f"control: a path-following open lands outside the roots during the "
                        f"same race ({followed} of {tries} tries)")


@case("F6", "hard links across mounts fail (EXDEV)")
def t_f6(ctx):
    ws = ctx.workspace()
    code = '''
    attempt("link python", lambda: os.link("/usr/bin/python3.11", "x"))
    attempt("link passwd", lambda: os.link("/etc/passwd", "y"))
    open("mine", "w").write("x")
    attempt("link to /tmp", lambda: os.link("mine", "/tmp/z"))
    '''
    r = ctx.probe(ws, code).result
    for k in ("link python", "link passwd", "link to /tmp"):
        check(r[k] in ("EXDEV", "EPERM", "EROFS"), f"inside: {k} -> {r[k]}")
    check(r["link python"] == "EXDEV", "inside: linking the bound python into the workspace -> EXDEV")
    check(not os.path.exists(os.path.join(ws, "x")) and not os.path.exists(os.path.join(ws, "y")),
          "host: no link appeared in the workspace")
    # Control: outside the sandbox (one filesystem) the same link works.
    ctl_dir = ctx.workspace("ctl")
    ctl = ctx.host('attempt("link python", lambda: os.link("/usr/bin/python3.11", "x"))',
                   cwd=ctl_dir).result
    ok = ctl["link python"] == "OK" and \
        os.stat(os.path.join(ctl_dir, "x")).st_ino == os.stat("/usr/bin/python3.11").st_ino
    if os.path.exists(os.path.join(ctl_dir, "x")):
        os.unlink(os.path.join(ctl_dir, "x"))
    if os.stat("/usr").st_dev != os.stat(ctl_dir).st_dev:
        log("# control skipped: /usr and the test directory are on different filesystems")
    else:
        check(ok, "control: outside the sandbox the same os.link succeeds", ctl)


@case("F7", "/proc/self/exe and /proc/1/exe cannot be written; init is not dumpable")
def t_f7(ctx):
    ws = ctx.workspace()
    real_py = os.path.realpath(PY)
    before = {p: sha256(p) for p in (real_py, ctx.launcher)}
    code = '''
    attempt("write self exe", lambda: open("/proc/self/exe", "r+b"))
    attempt("readlink 1 exe", lambda: os.readlink("/proc/1/exe"))
    attempt("open 1 exe", lambda: open("/proc/1/exe", "rb"))
    attempt("write 1 exe", lambda: open("/proc/1/exe", "r+b"))
    attempt("1 status", lambda: open("/proc/1/status").read())
    st = open("/proc/1/status").read() if R["1 status"] == "OK" else ""
    R["init uid line"] = [l for l in st.splitlines() if l.startswith("Uid:")]
    '''
    r = ctx.probe(ws, code).result
    check(r["write self exe"] in ("ETXTBSY", "EROFS", "EACCES"),
          f"inside: open /proc/self/exe for writing -> {r['write self exe']}")
    for k in ("readlink 1 exe", "open 1 exe", "write 1 exe"):
        check(r[k] in INIT_HIDDEN, f"inside: {k} -> {r[k]} (init is hidden or not dumpable)")
    for p, h in before.items():
        check(sha256(p) == h, f"host: sha256 of {p} unchanged")
    # Control: a dumpable process of the same uid exposes its exe link.
    ctl = ctx.host('''
    pid = os.fork()
    if pid == 0:
        time.sleep(30); os._exit(0)
    time.sleep(0.1)
    attempt("readlink child exe", lambda: os.readlink("/proc/%d/exe" % pid))
    attempt("open child exe", lambda: open("/proc/%d/exe" % pid, "rb"))
    os.kill(pid, 9)
    ''', user=NOBODY).result
    check(ctl["readlink child exe"] == "OK" and ctl["open child exe"] == "OK",
          "control: the same probe on a dumpable same-uid process reaches its exe", ctl)


@case("F8", "no host fd reaches the sandbox (/proc/self/fd, /proc/1/fd)")
def t_f8(ctx):
    ws = ctx.workspace()
    os.makedirs(ctx.path("secret"), exist_ok=True)
    leak_dir = os.open(ctx.path("secret"), os.O_RDONLY | os.O_DIRECTORY)
    leak_sock = socket.socket()
    leak_sock.bind(("127.0.0.1", 0))
    leak_sock.listen()
    leak_ep = select.epoll()
    fds = [leak_dir, leak_sock.fileno(), leak_ep.fileno()]
    for fd in fds:
        os.set_inheritable(fd, True)
    code = '''
    fds = {}
    for fd in os.listdir("/proc/self/fd"):
        try:
            fds[fd] = os.readlink("/proc/self/fd/" + fd)
        except OSError as e:
            fds[fd] = en(e.errno)
    R["fds"] = fds
    R["progress fd"] = os.environ.get("PYMCP_PROGRESS_FD")
    attempt("list 1 fd", lambda: os.listdir("/proc/1/fd"))
    '''
    try:
        res = ctx.probe(ws, code, pass_fds=fds)
        r = res.result
        # The one descriptor a job gets on purpose: the write end of its
        # progress pipe, named by PYMCP_PROGRESS_FD.
        progress = r["progress fd"]
        check(progress is not None and r["fds"].get(progress, "").startswith("pipe:"),
              "inside: PYMCP_PROGRESS_FD names a pipe", r)
        extra = {fd: t for fd, t in r["fds"].items() if int(fd) > 2 and fd != progress}
        check(all(t.startswith("/proc/") or t == "ENOENT" for t in extra.values()),
              "inside: beyond 0-2 and the progress pipe only the listing's own /proc "
              "descriptor is open", r["fds"])
        check(all(t.startswith(("pipe:", "/dev/null")) for fd, t in r["fds"].items()
                  if int(fd) <= 2), "inside: fds 0-2 are pipes or /dev/null", r["fds"])
        check(r["list 1 fd"] in INIT_HIDDEN, f"inside: /proc/1/fd -> {r['list 1 fd']}")
        # Control: the same probe outside the sandbox sees the leaked fds.
        ctl = ctx.host(code, pass_fds=fds).result
        targets = " ".join(ctl["fds"].values())
        check(ctx.path("secret") in targets and "socket:" in targets and "eventpoll" in targets,
              "control: outside the sandbox the directory, socket and epoll fds are visible",
              ctl["fds"])
    finally:
        os.close(leak_dir)
        leak_sock.close()
        leak_ep.close()


@case("F9", "only sandbox pids, no way up from / (/.., /proc/1/root, old root)")
def t_f9(ctx):
    ws = ctx.workspace()
    mark = ctx.mark("f9-host")
    victim = subprocess.Popen([PY, "-c", "import time; time.sleep(120)", mark], user=NOBODY)
    ctx.cleanup_pids.append(victim.pid)
    code = f'''
    R["ppid"] = os.getppid()
    R["pids"] = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
    R["dotdot same"] = os.listdir("/..") == os.listdir("/")
    R["root entries"] = sorted(os.listdir("/"))
    attempt("1 root", lambda: os.listdir("/proc/1/root"))
    attempt("1 cwd", lambda: os.readlink("/proc/1/cwd"))
    seen = False
    for p in os.listdir("/proc"):
        try:
            seen |= {mark!r}.encode() in open("/proc/%s/cmdline" % p, "rb").read()
        except OSError:
            pass
    R["host process seen"] = seen
    '''
    try:
        r = ctx.probe(ws, code).result
        check(r["ppid"] in (0, 1), f"inside: getppid() is {r['ppid']} (the sandbox init)")
        check(r["pids"] and max(r["pids"]) < 100 and len(r["pids"]) <= 5,
              f"inside: /proc lists only the sandbox's few pids {r['pids']}")
        check(r["dotdot same"], "inside: /.. is /")
        allowed = {"usr", "bin", "sbin", "lib", "lib64", "etc", "tmp", "dev", "proc",
                   ws.split("/")[1]}
        check(set(r["root entries"]) <= allowed,
              f"inside: / holds only the sandbox's entries {r['root entries']} (no old root)")
        check(r["1 root"] in INIT_HIDDEN and r["1 cwd"] in INIT_HIDDEN,
              "inside: /proc/1/root and /proc/1/cwd -> EACCES or ENOENT (init hidden)", r)
        check(not r["host process seen"], "inside: a host process is not visible")
        ctl = ctx.host(code, user=NOBODY).result
        check(ctl["host process seen"] and len(ctl["pids"]) > 5,
              "control: outside the sandbox the same probe sees the host process and all pids")
    finally:
        victim.kill()
        victim.wait()


@case("F10", "chroot is refused by the filter")
def t_f10(ctx):
    ws = ctx.workspace("ws-seccomp")
    check_seccomp(ctx, {"chroot": {"EPERM"}}, ws=ws)
    r = ctx.probe(ws, '''
    attempt("chroot ws", lambda: os.chroot("."))
    R["root after"] = sorted(os.listdir("/"))
    ''').result
    check(r["chroot ws"] == "EPERM", f"inside: chroot(workspace) -> {r['chroot ws']}")
    check("usr" in r["root after"], "inside: the root is unchanged afterwards")


MOUNT_CODE = r'''
libc.mount.argtypes = [ctypes.c_char_p] * 3 + [ctypes.c_ulong, ctypes.c_void_p]
libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
def mnt(src, tgt, fstype, flags):
    if libc.mount(src, tgt, fstype, flags, None, None) != 0:
        e = ctypes.get_errno(); raise OSError(e, os.strerror(e))
def umnt(tgt):
    if libc.umount2(tgt, 2) != 0:
        e = ctypes.get_errno(); raise OSError(e, os.strerror(e))
attempt("mount tmpfs", mnt, b"tmpfs", b"/tmp", b"tmpfs", 0)
attempt("remount /usr rw", mnt, None, b"/usr", None, 0x20 | 0x1000)   # MS_REMOUNT|MS_BIND
attempt("umount2 /usr", umnt, b"/usr")
attempt("write /usr after", lambda: open("/usr/pymcp-f11", "w"))
R["usr present"] = os.path.exists("/usr/bin/python3")
'''


@case("F11", "mount, remount, umount2 and the new mount API are refused")
def t_f11(ctx):
    ws = ctx.workspace("ws-seccomp")
    api = {n: {"EPERM", "ENOSYS"} for n in
           ("fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree", "mount_setattr")}
    check_seccomp(ctx, dict({"mount": {"EPERM"}, "umount2": {"EPERM"},
                             "pivot_root": {"EPERM"}}, **api), ws=ws)
    r = ctx.probe(ws, MOUNT_CODE).result
    for k in ("mount tmpfs", "remount /usr rw", "umount2 /usr"):
        check(r[k] == "EPERM", f"inside: {k} -> {r[k]}")
    check(r["write /usr after"] in ("EROFS", "EACCES") and r["usr present"],
          "inside: /usr is still there and still read-only", r)
    check(not os.path.exists("/usr/pymcp-f11"), "host: nothing written to /usr")


HANDLE_CODE = r'''
open("victim.txt", "w").write("x")
buf = ctypes.create_string_buffer(8 + 128)
struct.pack_into("I", buf, 0, 128)
mid = ctypes.c_int()
attempt("name_to_handle_at", sysc, 303, -100, b"victim.txt", buf, ctypes.byref(mid), 0)
attempt("open_by_handle_at", sysc, 304, os.open(".", os.O_RDONLY), buf, 0)
'''


@case("F12", "name_to_handle_at / open_by_handle_at (Shocker) are refused by the filter")
def t_f12(ctx):
    ws = ctx.workspace("ws-seccomp")
    check_seccomp(ctx, {"name_to_handle_at": {"EPERM"}, "open_by_handle_at": {"EPERM"}}, ws=ws)
    r = ctx.probe(ws, HANDLE_CODE).result
    check(r["name_to_handle_at"] == "EPERM" and r["open_by_handle_at"] == "EPERM",
          "inside: a real handle lookup on a workspace file -> EPERM", r)
    ctl = ctx.probe(ws, HANDLE_CODE, policy=ctx.policy(drop_seccomp, "no-seccomp")).result
    check(ctl["name_to_handle_at"] == "OK",
          "control: without the filter the same name_to_handle_at returns a handle", ctl)


@case("F13", "no device nodes: mknod fails, /dev holds only the minimal set")
def t_f13(ctx):
    ws = ctx.workspace()
    code = '''
    attempt("mknod mem", os.mknod, "mem", 0o600 | stat.S_IFCHR, os.makedev(1, 1))
    attempt("mknod null", os.mknod, "null", 0o600 | stat.S_IFCHR, os.makedev(1, 3))
    attempt("mknod loop0", os.mknod, "loop0", 0o600 | stat.S_IFBLK, os.makedev(7, 0))
    attempt("mknod /dev/mem", os.mknod, "/dev/mem", 0o600 | stat.S_IFCHR, os.makedev(1, 1))
    attempt("mknod /tmp/mem", os.mknod, "/tmp/mem", 0o600 | stat.S_IFCHR, os.makedev(1, 1))
    R["dev"] = sorted(os.listdir("/dev"))
    attempt("write /dev/null", lambda: open("/dev/null", "w").write("x"))
    '''
    code = "import stat\n" + textwrap.dedent(code)
    r = ctx.probe(ws, code).result
    for k in ("mknod mem", "mknod null", "mknod loop0", "mknod /tmp/mem"):
        check(r[k] == "EPERM", f"inside: {k} -> {r[k]}")
    # /dev itself is read-only once populated, which refuses even earlier.
    check(r["mknod /dev/mem"] in ("EPERM", "EROFS"), f"inside: mknod /dev/mem -> {r['mknod /dev/mem']}")
    allowed = {"null", "zero", "full", "random", "urandom", "tty", "fd", "stdin", "stdout",
               "stderr", "shm", "pts", "ptmx"}
    check(set(r["dev"]) <= allowed, f"inside: /dev holds only {r['dev']}")
    check(r["write /dev/null"] == "OK", "inside: /dev/null works")
    for n in ("mem", "null", "loop0"):
        check(not os.path.exists(os.path.join(ws, n)), f"host: no {n} node in the workspace")
    # Control (harmless, outside): the host's /dev has more, and root can
    # create a node (char 1:3, /dev/null's numbers) where no sandbox rules.
    ctl_dir = ctx.workspace("ctl")
    ctl = ctx.host('import stat\nattempt("mknod null", os.mknod, "null", 0o600 | stat.S_IFCHR, '
                   'os.makedev(1, 3))\nR["dev"] = sorted(os.listdir("/dev"))', cwd=ctl_dir).result
    check(ctl["mknod null"] == "OK" and not set(ctl["dev"]) <= allowed,
          "control: outside the sandbox mknod succeeds and /dev has more nodes")


@case("F14", "no privilege: NoNewPrivs 1, no capabilities, setuid ignored")
def t_f14(ctx):
    ws = ctx.workspace(owner=OTHER_UID, mode=0o700)
    suid = os.path.join(ws, "suid-python")
    shutil.copy(os.path.realpath(PY), suid)
    os.chown(suid, 0, 0)
    os.chmod(suid, 0o4755)
    code = f'''
    st = dict(l.split(":", 1) for l in open("/proc/self/status").read().splitlines())
    for k in ("NoNewPrivs", "Seccomp", "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "Uid"):
        R[k] = st[k].split()
    import subprocess
    R["suid euid"] = subprocess.run([{suid!r}, "-c", "import os; print(os.geteuid())"],
                                    capture_output=True, text=True).stdout.strip()
    R["ws options"] = [l.split()[5] for l in open("/proc/self/mountinfo")
                       if l.split()[4] == {ws!r}]
    '''
    try:
        res = ctx.probe(ws, code)
        r = res.result
        check(r["NoNewPrivs"] == ["1"], "inside: NoNewPrivs: 1")
        check(r["Seccomp"] == ["2"], "inside: Seccomp: 2 (filter mode)")
        for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
            check(int(r[k][0], 16) == 0, f"inside: {k} is 0")
        check(r["Uid"] == ["1000"] * 4, f"inside: uid 1000 everywhere ({r['Uid']})")
        check(r["suid euid"] == "1000", f"inside: a setuid-root python runs with euid {r['suid euid']}")
        check(r["ws options"] and "nosuid" in r["ws options"][0].split(","),
              f"inside: the workspace is mounted nosuid ({r['ws options']})")
        # Control (harmless): outside, the same setuid binary run by an
        # unprivileged user gets euid 0, and root's status shows capabilities.
        p = subprocess.run([suid, "-c", "import os; print(os.geteuid())"], user=OTHER_UID,
                           group=OTHER_UID, extra_groups=[], capture_output=True, text=True)
        check(p.stdout.strip() == "0", "control: outside the sandbox the setuid copy gives euid 0")
        ctl = ctx.host(code.replace(repr(suid), repr("/bin/true"))).result
        check(int(ctl["CapEff"][0], 16) != 0 and ctl["NoNewPrivs"] == ["0"],
              "control: outside the sandbox the same probe sees capabilities", ctl)
    finally:
        os.unlink(suid)


@case("F15", "AF_ALG is refused; bound python and libraries are unchanged after a hostile job")
def t_f15(ctx):
    ws = ctx.workspace("ws-seccomp")
    check_seccomp(ctx, {"socket_alg": {"EPERM"}}, ws=ws)
    files = [os.path.realpath(PY), "/usr/lib/python3.11/os.py"]
    libc_path = [p for p in ("/usr/lib/x86_64-linux-gnu/libc.so.6", "/lib/x86_64-linux-gnu/libc.so.6")
                 if os.path.exists(p)]
    files += libc_path[:1]
    before = {p: sha256(p) for p in files}
    code = f'''
    for p in {files!r}:
        attempt("write " + p, lambda: open(p, "r+b").write(b"\\0"))
        attempt("truncate " + p, os.truncate, p, 0)
        # Dirty Pipe shape: splice a page of the file into a pipe, then write.
        def dirty():
            r, w = os.pipe()
            fd = os.open(p, os.O_RDONLY)
            os.splice(fd, w, 1, offset_src=0)
            os.write(w, b"PWNED")
        attempt("splice " + p, dirty)
    attempt("AF_ALG", socket.socket, 38, socket.SOCK_SEQPACKET, 0)
    '''
    r = ctx.probe(ws, code).result
    check(r["AF_ALG"] == "EPERM", f"inside: socket(AF_ALG) -> {r['AF_ALG']}")
    for p in files:
        check(r["write " + p] in ("EROFS", "EACCES", "ETXTBSY"),
              f"inside: write {p} -> {r['write ' + p]}")
    for p, h in before.items():
        check(sha256(p) == h, f"host: sha256 of {p} unchanged after the job")
    log("# Dirty Pipe (CVE-2022-0847) itself needs an unpatched kernel (< 5.16.11); "
        f"this one is {os.uname().release}, so only the hashes are checked")


@case("F16", "no /proc/sys, /proc/sysrq-trigger or /sys")
def t_f16(ctx):
    ws = ctx.workspace()
    hostname = socket.gethostname()
    code = '''
    attempt("sysrq", lambda: open("/proc/sysrq-trigger", "w"))
    attempt("proc sys hostname", lambda: open("/proc/sys/kernel/hostname", "w"))
    attempt("proc sys userns", lambda: open("/proc/sys/user/max_user_namespaces", "w"))
    attempt("sys", os.listdir, "/sys")
    R["exists"] = {p: os.path.exists(p) for p in ("/proc/sysrq-trigger", "/proc/sys", "/sys")}
    '''
    r = ctx.probe(ws, code).result
    for k in ("sysrq", "proc sys hostname", "proc sys userns", "sys"):
        check(r[k] == "ENOENT", f"inside: {k} -> {r[k]}")
    check(socket.gethostname() == hostname, "host: hostname unchanged")
    # Control: with the full procfs (subset_pid off) the files are there; the
    # control only looks, it writes nothing.
    on_host = [p for p in ("/proc/sysrq-trigger", "/proc/sys", "/proc/sys/kernel/hostname")
               if os.path.exists(p)]
    ctl = ctx.probe(ws, f'R["exists"] = {{p: os.path.exists(p) for p in {on_host!r}}}',
                    policy=ctx.policy(set_key("proc.subset_pid", False), "fullproc")).result
    check(on_host and all(ctl["exists"].values()),
          f"control: without proc.subset_pid the same paths exist ({on_host})", ctl)
