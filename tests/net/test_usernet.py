#!/usr/bin/python3
"""The user-mode network ("network": "user", THREATS.md S9): the real
launcher, the real pasta, the real kernel.  The sandbox reaches a "remote"
host (a network namespace this test makes, behind a veth pair) but neither
the host's loopback nor any of the host's own addresses, by TCP, UDP,
multicast, broadcast or IPv6, whatever interface a socket binds to.  Each
case has a negative control: the same probe under "network": true (the
host's network) reaches what the user network must not.

    test_usernet.py --launcher PATH --policy install.json CASE

Needs root (network namespaces, veth) and pasta (Debian: passt).  Exit 0 =
passed, 1 = failed, 77 = this machine cannot run the case (said loudly;
ctest counts it as a failure unless skips are allowed)."""
import argparse
import json
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

PASTA = "/usr/bin/pasta"
CASES = {}

# Runs inside the sandbox: one probe per target, results as JSON.
PROBE = r'''
import errno, json, socket, sys
def attempt(t):
    host, port = t.get("host"), t.get("port", 0)
    v6 = ":" in (host or "")
    fam = socket.AF_INET6 if v6 else socket.AF_INET
    kind = t["kind"]
    if kind == "raw":
        socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        return "opened"
    if kind == "netlink_netfilter":
        socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 12)
        return "opened"
    if kind == "file":
        return "data:" + open(t["path"]).read()
    s = socket.socket(fam, socket.SOCK_STREAM if kind == "tcp" else socket.SOCK_DGRAM)
    s.settimeout(t.get("timeout", 4))
    if t.get("dev"):
        s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, t["dev"].encode())
    if t.get("mcif"):
        s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(t["mcif"]))
    addr = (host, port)
    if v6:
        scope = socket.if_nametoindex(t["scope"]) if t.get("scope") else 0
        addr = (host, port, 0, scope)
    if kind == "tcp":
        s.connect(addr)
        return "data:" + s.recv(200).decode(errors="replace")
    if kind == "dns":
        query = (b"\x4d\x43\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"
                 b"\x07example\x03org\x00\x00\x01\x00\x01")
        s.sendto(query, addr)
        reply = s.recv(512)
        return "dns:answered" if reply[:2] == b"\x4d\x43" else "dns:garbage"
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    s.sendto(b"probe", addr)
    return "data:" + s.recv(200).decode(errors="replace")
out = []
for t in json.load(open(sys.argv[1])):
    try:
        out.append(attempt(t))
    except socket.timeout:
        out.append("error:timeout")
    except OSError as e:
        out.append("error:" + errno.errorcode.get(e.errno or 0, str(e)))
print(json.dumps(out))
'''


class Skip(Exception):
    pass


def case(fn):
    CASES[fn.__name__] = fn
    return fn


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def run(*argv, **kw):
    return subprocess.run(argv, check=True, capture_output=True, text=True, **kw)


class TokenServer:
    """Answers every TCP connection, or UDP datagram, with its token."""

    def __init__(self, name, bind, port=0, udp=False, group=None):
        self.token = f"TOKEN-{name}-{secrets.token_hex(4)}"
        fam = socket.AF_INET6 if ":" in bind else socket.AF_INET
        self.sock = socket.socket(fam, socket.SOCK_DGRAM if udp else socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if fam == socket.AF_INET6:
            self.sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        self.sock.bind((bind, port))
        if group:
            self.sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
                                 socket.inet_aton(group[0]) + socket.inet_aton(group[1]))
        self.port = self.sock.getsockname()[1]
        self.udp = udp
        if not udp:
            self.sock.listen(16)
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                if self.udp:
                    _, peer = self.sock.recvfrom(200)
                    self.sock.sendto(self.token.encode(), peer)
                else:
                    c, _ = self.sock.accept()
                    c.sendall(self.token.encode())
                    c.close()
            except OSError:
                return


class Remote:
    """A host of its own: a network namespace behind a veth pair, serving
    a token on TCP.  Names and addresses are unique to this process, and
    everything goes again in close(), whatever happened."""

    def __init__(self):
        pid = os.getpid()
        self.ns = f"pymcp-remote-{pid}"
        self.veth = f"pmr{pid % 1000000}"
        third, fourth = (pid >> 6) & 255, (pid & 63) * 4
        self.host_addr = f"10.237.{third}.{fourth + 1}"
        self.addr = f"10.237.{third}.{fourth + 2}"
        self.token = f"TOKEN-remote-{secrets.token_hex(4)}"
        self.server = None
        try:
            run("ip", "netns", "add", self.ns)
            run("ip", "link", "add", self.veth + "a", "type", "veth", "peer", "name",
                self.veth + "b")
            run("ip", "link", "set", self.veth + "b", "netns", self.ns)
            run("ip", "addr", "add", self.host_addr + "/30", "dev", self.veth + "a")
            run("ip", "link", "set", self.veth + "a", "up")
            run("ip", "netns", "exec", self.ns, "ip", "addr", "add", self.addr + "/30", "dev",
                self.veth + "b")
            run("ip", "netns", "exec", self.ns, "ip", "link", "set", self.veth + "b", "up")
            run("ip", "netns", "exec", self.ns, "ip", "link", "set", "lo", "up")
            code = ("import socket,sys\ns=socket.socket()\ns.bind((sys.argv[1],0))\ns.listen(8)\n"
                    "print(s.getsockname()[1],flush=True)\n"
                    "while True:\n c,_=s.accept()\n c.sendall(sys.argv[2].encode())\n c.close()\n")
            self.server = subprocess.Popen(["ip", "netns", "exec", self.ns, "/usr/bin/python3",
                                            "-c", code, self.addr, self.token],
                                           stdout=subprocess.PIPE, text=True)
            self.port = int(self.server.stdout.readline())
        except BaseException:
            self.close()
            raise

    def close(self):
        if self.server:
            self.server.kill()
            self.server.wait()
        subprocess.run(["ip", "link", "del", self.veth + "a"], capture_output=True)
        subprocess.run(["ip", "netns", "del", self.ns], capture_output=True)


def own_addresses():
    """The host's own addresses: (IPv4 list, IPv6 global list, IPv6
    link-local list), as `ip -j addr` shows them."""
    v4, v6, ll = [], [], []
    for link in json.loads(run("ip", "-j", "addr", "show").stdout):
        for a in link.get("addr_info", []):
            if a["family"] == "inet":
                v4.append(a["local"])
            elif a["family"] == "inet6" and a["local"].startswith("fe80"):
                ll.append(a["local"])
            elif a["family"] == "inet6":
                v6.append(a["local"])
    return v4, v6, ll


def primary_v4():
    v4 = [a for a in own_addresses()[0] if not a.startswith("127.")]
    if not v4:
        raise Skip("the host has no non-loopback IPv4 address to test against")
    return v4[0]


class Env:
    def __init__(self, launcher, policy):
        self.launcher = launcher
        self.tmp = tempfile.mkdtemp(prefix="pymcp-usernet-", dir="/tmp")
        os.chmod(self.tmp, 0o755)
        with open(policy) as f:
            self.base = json.load(f)
        self.user = self.policy("user")
        self.remotes = []

    def policy(self, name, **changes):
        p = json.loads(json.dumps(self.base))
        p.update(changes)
        path = os.path.join(self.tmp, f"{name}.json")
        with open(path, "w") as f:
            json.dump(p, f)
        return path

    def host_policy(self):
        """The negative control: the host's network, as before."""
        return self.policy("host", network=True)

    def remote(self):
        r = Remote()
        self.remotes.append(r)
        return r

    def probe(self, targets, policy=None, extra=(), prefix=(), expect_rc=0):
        """Runs the probe in a sandbox; returns (results, events)."""
        ws = tempfile.mkdtemp(dir=self.tmp)
        os.chmod(ws, 0o777)
        with open(os.path.join(ws, "probe.py"), "w") as f:
            f.write(PROBE)
        with open(os.path.join(ws, "targets.json"), "w") as f:
            json.dump(targets, f)
        r, w = os.pipe()
        p = subprocess.Popen([*prefix, self.launcher, "--policy", policy or self.user,
                              "--workspace", ws, "--status-fd", str(w), *extra, "--",
                              "python3", "probe.py", "targets.json"],
                             pass_fds=(w,), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        os.close(w)
        with os.fdopen(r) as f:
            events = [json.loads(line) for line in f]
        out, err = p.communicate(timeout=300)
        check(p.returncode == expect_rc, f"launcher exit {p.returncode}: {err.decode()}")
        if expect_rc != 0:
            return None, events, err.decode()
        results = json.loads(out)
        print(json.dumps(list(zip([json.dumps(t) for t in targets], results)), indent=1))
        return results, events

    def close(self):
        for r in self.remotes:
            r.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


def reached(result, server):
    return server.token in result


def started(events):
    found = [e for e in events if e.get("event") == "started"]
    check(len(found) == 1, f"one started event: {events}")
    return found[0]


@case
def host_loopback(env):
    """127.0.0.1 in the sandbox is the sandbox's; the gateway address does
    not map to the host's loopback either (pasta's default, turned off)."""
    lo = TokenServer("loopback", "127.0.0.1")
    targets = [{"kind": "tcp", "host": "127.0.0.1", "port": lo.port},
               {"kind": "tcp", "host": "10.0.2.2", "port": lo.port, "timeout": 2},
               {"kind": "tcp", "host": "127.0.0.1", "port": lo.port, "dev": "tap0"}]
    res, ev = env.probe(targets)
    check(started(ev)["network_mode"] == "user" and started(ev)["network"] is True, ev)
    check(not any(reached(r, lo) for r in res), f"the host's loopback answered: {res}")
    check(res[0] == "error:ECONNREFUSED", f"127.0.0.1 is the sandbox's own: {res[0]}")
    # Negative control: with the host's network, the same probe reaches it.
    res, _ = env.probe(targets[:1], policy=env.host_policy())
    check(reached(res[0], lo), f"negative control: the host's loopback not reached: {res}")


@case
def host_addresses(env):
    """None of the host's addresses (a service on 0.0.0.0 answers on each)
    is reachable: TCP and UDP, bound to the tap, to lo or to nothing,
    IPv6, multicast to a group the host joined, broadcast."""
    primary = primary_v4()
    remote = env.remote()  # one more host address: the veth's own
    v4, v6, ll = own_addresses()
    check(remote.host_addr in v4, f"the veth address is the host's: {v4}")
    tcp = TokenServer("tcp", "0.0.0.0")
    udp = TokenServer("udp", "0.0.0.0", udp=True)
    tcp6 = TokenServer("tcp6", "::")
    group = "239.77.0.1"
    mcast = TokenServer("mcast", "0.0.0.0", udp=True, group=(group, primary))
    targets = []
    for a in v4:
        for dev in (None, "tap0", "lo"):
            targets.append({"kind": "tcp", "host": a, "port": tcp.port, "dev": dev,
                            "timeout": 2})
        targets.append({"kind": "udp", "host": a, "port": udp.port, "timeout": 2})
        targets.append({"kind": "udp", "host": a, "port": udp.port, "dev": "tap0",
                        "timeout": 2})
    for a in ["::1"] + v6:
        targets.append({"kind": "tcp", "host": a, "port": tcp6.port, "timeout": 2})
    for a in ll:
        targets.append({"kind": "tcp", "host": a, "port": tcp6.port, "scope": "tap0",
                        "timeout": 2})
    for extra in ({}, {"dev": "tap0"}, {"mcif": "10.0.2.100"}):
        targets.append({"kind": "udp", "host": group, "port": mcast.port, "timeout": 2, **extra})
    targets.append({"kind": "udp", "host": "255.255.255.255", "port": udp.port, "timeout": 2,
                    "dev": "tap0"})
    res, _ = env.probe(targets)
    for t, r in zip(targets, res):
        check(not any(reached(r, s) for s in (tcp, udp, tcp6, mcast)),
              f"the host answered {t}: {r}")
    # Sends to the host are refused by the sandbox's own rules, at once.
    i = next(i for i, t in enumerate(targets) if t["host"] == primary and t["kind"] == "tcp")
    check(res[i] == "error:EHOSTUNREACH", f"refused, not timed out: {res[i]}")
    # Negative control: the host's network reaches its own address, by
    # TCP, UDP and multicast.
    res, _ = env.probe([{"kind": "tcp", "host": primary, "port": tcp.port},
                        {"kind": "udp", "host": primary, "port": udp.port},
                        {"kind": "udp", "host": group, "port": mcast.port}],
                       policy=env.host_policy())
    check(reached(res[0], tcp) and reached(res[1], udp) and reached(res[2], mcast),
          f"negative control: the host's address not reached: {res}")


@case
def remote_reachable(env):
    """Outbound works: a host elsewhere answers; DNS goes to the helper's
    forwarder.  The sandbox holds no raw socket and cannot touch its
    netfilter rules."""
    remote = env.remote()
    targets = [{"kind": "tcp", "host": remote.addr, "port": remote.port},
               {"kind": "file", "path": "/etc/resolv.conf"},
               {"kind": "dns", "host": "10.0.2.3", "port": 53},
               {"kind": "raw"},
               {"kind": "netlink_netfilter"}]
    res, ev = env.probe(targets)
    check(remote.token in res[0], f"the remote host not reached: {res[0]}")
    check(res[1] == "data:nameserver 10.0.2.3\n", f"resolv.conf: {res[1]!r}")
    resolvers = [line.split()[1] for line in open("/etc/resolv.conf")
                 if line.startswith("nameserver")]
    if resolvers:
        check(res[2] == "dns:answered", f"the DNS forwarder did not answer: {res[2]}")
    else:
        print("NOTE: the host has no resolver: the DNS forwarder is not tested here")
    check(res[3] == "error:EPERM" and res[4] == "error:EPERM", f"raw/netlink: {res[3:]}")
    # Negative control: without a network, the remote host is out of reach.
    res, _ = env.probe(targets[:1], policy=env.policy("none", network=False))
    check(remote.token not in res[0], f"reached without a network: {res[0]}")


@case
def loopback_port(env):
    """A forwarded port (an admin's index) reaches the host's loopback; a
    port that is not forwarded does not, on the command line as in a job
    spec."""
    wanted = TokenServer("index", "127.0.0.1")
    other = TokenServer("other", "127.0.0.1")
    targets = [{"kind": "tcp", "host": "127.0.0.1", "port": wanted.port},
               {"kind": "tcp", "host": "127.0.0.1", "port": other.port}]
    res, _ = env.probe(targets, extra=["--loopback-port", str(wanted.port)])
    check(reached(res[0], wanted), f"the forwarded port: {res[0]}")
    check(not reached(res[1], other) and res[1] == "error:ECONNREFUSED",
          f"a port not forwarded: {res[1]}")
    # The same through --spec-fd.
    ws = tempfile.mkdtemp(dir=env.tmp)
    os.chmod(ws, 0o777)
    with open(os.path.join(ws, "probe.py"), "w") as f:
        f.write(PROBE)
    with open(os.path.join(ws, "t.json"), "w") as f:
        json.dump(targets, f)
    spec_r, spec_w = os.pipe()
    p = subprocess.Popen([env.launcher, "--policy", env.user, "--spec-fd", str(spec_r)],
                         pass_fds=(spec_r,), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    os.close(spec_r)
    os.write(spec_w, json.dumps({"workspace": ws, "argv": ["python3", "probe.py", "t.json"],
                                 "loopback_ports": [wanted.port]}).encode())
    os.close(spec_w)
    out, err = p.communicate(timeout=120)
    check(p.returncode == 0, f"prepared: {err.decode()}")
    res = json.loads(out)
    check(reached(res[0], wanted) and not reached(res[1], other), f"prepared: {res}")


def descendants(pid):
    kids = {}
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                with open(f"/proc/{p}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            kids.setdefault(ppid, []).append(int(p))
    out, todo = [], [pid]
    while todo:
        for k in kids.get(todo.pop(), []):
            out.append(k)
            todo.append(k)
    return out


def comm(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return None


def status(pid):
    with open(f"/proc/{pid}/status") as f:
        return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)


def running(pid):
    try:
        return status(pid).get("State", "Z")[:1] != "Z"
    except OSError:
        return False


def wait_gone(pids, what):
    """The processes end; a generous deadline only bounds a hang."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        left = [p for p in pids if running(p)]
        if not left:
            return
        time.sleep(0.1)
    raise AssertionError(f"{what}: still running: {[(p, comm(p)) for p in left]}")


@case
def helper_lifecycle(env):
    """pasta runs as the policy's unprivileged host uid, inside the
    sandbox's user namespace, with no capability outside it and
    no_new_privs; the script cannot see it; it is gone when the run ends,
    and when the launcher is killed."""
    ws = tempfile.mkdtemp(dir=env.tmp)
    os.chmod(ws, 0o777)
    code = ("import os,time\nprint(sorted(open(f'/proc/{p}/comm').read().strip() "
            "for p in os.listdir('/proc') if p.isdigit()), flush=True)\ntime.sleep(120)\n")
    p = subprocess.Popen([env.launcher, "--policy", env.user, "--workspace", ws, "--",
                          "python3", "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    try:
        seen = p.stdout.readline()
        check("pasta" not in seen and "passt" not in seen, f"the script sees the helper: {seen}")
        tree = descendants(p.pid)
        helpers = [q for q in tree if (comm(q) or "").startswith("pas")]
        check(len(helpers) == 1, f"one helper below the launcher: {[(q, comm(q)) for q in tree]}")
        st = status(helpers[0])
        host_uid = env.base["user"]["host_uid"] if os.geteuid() == 0 else os.geteuid()
        check(st["Uid"].split()[0] == str(host_uid), f"helper uid {st['Uid']}")
        check(st["NoNewPrivs"] == "1" and st["Seccomp"] == "2", f"helper {st}")
        # Its capabilities: at most SYS_ADMIN, NET_ADMIN, NET_BIND_SERVICE,
        # and those only in the sandbox's user namespace.
        check(int(st["CapEff"], 16) & ~((1 << 21) | (1 << 12) | (1 << 10)) == 0, st["CapEff"])
        sandbox_init = [q for q in tree if q not in helpers and
                        os.readlink(f"/proc/{q}/ns/net") != os.readlink("/proc/self/ns/net")]
        check(sandbox_init, "the sandbox's init")
        check(os.readlink(f"/proc/{helpers[0]}/ns/user") ==
              os.readlink(f"/proc/{sandbox_init[0]}/ns/user"), "the helper's user namespace")
        check(os.readlink(f"/proc/{helpers[0]}/ns/net") == os.readlink("/proc/self/ns/net"),
              "the helper's sockets are the host's")
        p.kill()
        p.wait()
        wait_gone(tree, "after SIGKILL of the launcher")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    # A run that ends normally leaves nothing either: the script runs
    # until the test has seen the helper, then exits.
    code = ("import os,time\nprint('up', flush=True)\n"
            "while not os.path.exists('go'): time.sleep(0.05)\n")
    p = subprocess.Popen([env.launcher, "--policy", env.user, "--workspace", ws, "--",
                          "python3", "-c", code], stdout=subprocess.PIPE, text=True)
    check(p.stdout.readline() == "up\n", "the script started")
    tree = descendants(p.pid)
    check(any((comm(q) or "").startswith("pas") for q in tree), "the helper runs")
    open(os.path.join(ws, "go"), "w").close()
    check(p.wait(timeout=120) == 0, "the run ended")
    wait_gone(tree, "after a normal end")


@case
def helper_missing(env):
    """No helper: the run fails closed, saying what to install; with the
    layer optional, it runs with loopback only (never the host's
    network)."""
    remote = env.remote()
    missing = {"mode": "user", "helper": "/nonexistent/pasta"}
    _, ev, err = env.probe([], policy=env.policy("missing", network=missing), expect_rc=125)
    e = [x for x in ev if x["event"] == "error"]
    check(len(e) == 1 and e[0]["stage"] == "user_network" and "/nonexistent/pasta" in
          e[0]["message"] and "passt" in e[0]["hint"], f"error event: {ev}")
    check("Hint:" in err, err)
    res, ev = env.probe([{"kind": "tcp", "host": remote.addr, "port": remote.port}],
                        policy=env.policy("optional", network=missing,
                                          optional_layers=["user_network"]))
    st = started(ev)
    check("user_network" in (st["degraded"] or "") and st["network"] is False, st)
    check(remote.token not in res[0] and res[0].startswith("error:"), f"no network: {res}")


@case
def unprivileged_launcher(env):
    """A launcher that is not root runs the helper as itself.  It needs
    the host's /dev/net/tun; where that is not open to it, the run fails
    with the device named and a hint."""
    if not shutil.which("setpriv"):
        raise Skip("setpriv (util-linux) is missing")
    nobody = pwd.getpwnam("nobody").pw_uid
    remote = env.remote()
    prefix = ["setpriv", f"--reuid={nobody}", f"--regid={nobody}", "--clear-groups"]
    targets = [{"kind": "tcp", "host": remote.addr, "port": remote.port}]
    opens = "import os; os.open('/dev/net/tun', os.O_RDWR)"
    tun_ok = subprocess.run([*prefix, "/usr/bin/python3", "-c", opens],
                            capture_output=True).returncode == 0
    if tun_ok:
        res, _ = env.probe(targets, prefix=prefix)
        check(remote.token in res[0], f"unprivileged: {res}")
    else:
        _, ev, err = env.probe(targets, prefix=prefix, expect_rc=125)
        check("/dev/net/tun" in err and "0666" in err, f"tun not named: {err}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--launcher", required=True)
    ap.add_argument("--policy", required=True)
    ap.add_argument("case", choices=sorted(CASES))
    a = ap.parse_args()
    if os.geteuid() != 0:
        print(f"CANNOT TEST {a.case} ON THIS MACHINE: needs root (network namespaces, veth)",
              file=sys.stderr)
        return 77
    if not os.access(PASTA, os.X_OK):
        print(f"CANNOT TEST {a.case} ON THIS MACHINE: {PASTA} is missing (apt-get install passt)",
              file=sys.stderr)
        return 77
    env = Env(a.launcher, a.policy)
    try:
        CASES[a.case](env)
    except Skip as s:
        print(f"CANNOT TEST {a.case} ON THIS MACHINE: {s}", file=sys.stderr)
        return 77
    except AssertionError as e:
        print(f"FAILED {a.case}: {e}", file=sys.stderr)
        return 1
    finally:
        env.close()
    print(f"passed {a.case}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
