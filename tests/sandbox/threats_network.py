"""Sandbox cases of THREATS.md 1d: network; registered in threatlib.CASES."""
from threatlib import *  # noqa: F401,F403
from threats_fs import *  # noqa: F401,F403
from threats_process import *  # noqa: F401,F403
from threats_resources import *  # noqa: F401,F403

# ==========================================================================
# 1d Network

NET_CODE = r'''
R["interfaces"] = sorted(n for _, n in socket.if_nameindex())
def tcp(addr):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(5)
    try:
        s.connect(addr)
    finally:
        s.close()
def udp(addr):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.sendto(b"x", addr)
    finally:
        s.close()
mode = ARGS[0] if ARGS else "inside"
if mode == "inside":
    attempt("tcp 1.1.1.1:443", tcp, ("1.1.1.1", 443))
    attempt("udp 8.8.8.8:53", udp, ("8.8.8.8", 53))
    try:
        socket.getaddrinfo("example.com", 80)
        R["getaddrinfo"] = "OK"
    except socket.gaierror as e:
        R["getaddrinfo"] = "gaierror %d" % e.errno
    # Loopback is up inside.
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    attempt("own loopback", tcp, srv.getsockname())
else:
    attempt("udp 8.8.8.8:53", udp, ("8.8.8.8", 53))
'''


@case("N1", "no route out: TCP to 1.1.1.1 gives ENETUNREACH, only lo exists")
def t_n1(ctx):
    ws = ctx.workspace()
    r = ctx.probe(ws, NET_CODE).result
    check(r["tcp 1.1.1.1:443"] == "ENETUNREACH", f"inside: TCP 1.1.1.1:443 -> {r['tcp 1.1.1.1:443']}")
    check(r["interfaces"] == ["lo"], f"inside: interfaces {r['interfaces']}")
    check(r["own loopback"] == "OK", "inside: the sandbox's own loopback is up")
    ctl = ctx.probe(ws, NET_CODE, args=["control"],
                    policy=ctx.policy(set_key("network", True), "network")).result
    check(set(ctl["interfaces"]) - {"lo"},
          f"control: with \"network\": true the host's interfaces {ctl['interfaces']} appear")


@case("N2", "no DNS, no UDP out (ENETUNREACH, EAI_*)")
def t_n2(ctx):
    ws = ctx.workspace()
    r = ctx.probe(ws, NET_CODE).result
    check(r["udp 8.8.8.8:53"] == "ENETUNREACH", f"inside: UDP 8.8.8.8:53 -> {r['udp 8.8.8.8:53']}")
    check(r["getaddrinfo"].startswith("gaierror"), f"inside: getaddrinfo -> {r['getaddrinfo']}")
    ctl = ctx.probe(ws, NET_CODE, args=["control"],
                    policy=ctx.policy(set_key("network", True), "network")).result
    check(ctl["udp 8.8.8.8:53"] == "OK",
          "control: with \"network\": true the same datagram leaves (sendto succeeds)", ctl)


CONNECT_CODE = r'''
for target in ARGS:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    addr = "\0" + target[1:] if target.startswith("@") else target
    attempt(target, s.connect, addr)
    s.close()
'''


def accepted(listener):
    listener.setblocking(False)
    try:
        c, _ = listener.accept()
        c.close()
        return True
    except BlockingIOError:
        return False


@case("N3", "host abstract unix sockets are unreachable (ECONNREFUSED)")
def t_n3(ctx):
    ws = ctx.workspace()
    name = ctx.mark("n3")
    lst = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    lst.bind("\0" + name)
    lst.listen()
    try:
        targets = ["@" + name, "@/tmp/.X11-unix/X0", "@/org/freedesktop/dbus"]
        r = ctx.probe(ws, CONNECT_CODE, args=targets).result
        for t in targets:
            check(r[t] == "ECONNREFUSED", f"inside: connect {t} -> {r[t]}")
        check(not accepted(lst), "host: the abstract listener got no connection")
        ctl = ctx.probe(ws, CONNECT_CODE, args=["@" + name],
                        policy=ctx.policy(set_key("network", True), "network")).result
        check(ctl["@" + name] == "OK" and accepted(lst),
              "control: sharing the host's network namespace, the same connect reaches it")
    finally:
        lst.close()


@case("N4", "host unix sockets (docker, dbus, a listener outside the workspace) are not mounted")
def t_n4(ctx):
    ws = ctx.workspace()
    sockdir = ctx.path("sock")
    os.makedirs(sockdir)
    os.chmod(sockdir, 0o755)
    path = os.path.join(sockdir, "test.sock")
    lst = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    lst.bind(path)
    os.chmod(path, 0o777)
    lst.listen()
    try:
        targets = ["/var/run/docker.sock", "/run/docker.sock", "/run/dbus/system_bus_socket",
                   "/run/user/0/bus", "/run/user/1000/bus", path]
        r = ctx.probe(ws, CONNECT_CODE, args=targets).result
        for t in targets:
            check(r[t] == "ENOENT", f"inside: connect {t} -> {r[t]}")
        check(not accepted(lst), "host: the listener got no connection")
        ctl = ctx.host(CONNECT_CODE, args=[path], user=NOBODY).result
        check(ctl[path] == "OK" and accepted(lst), "control: outside, the same connect succeeds")
    finally:
        lst.close()


NETLINK_CODE = r'''
def nl_request(msgtype, payload):
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)
    hdr = struct.pack("=IHHII", 16 + len(payload), msgtype, 1 | 4 | 0x200 | 0x400, 1, 0)
    s.send(hdr + payload)
    data = s.recv(65536)
    s.close()
    length, typ = struct.unpack("=IH", data[:6])
    if typ == 2:                                    # NLMSG_ERROR
        err = -struct.unpack("=i", data[16:20])[0]
        return en(err) if err else "OK"
    return "type %d" % typ
def rta(kind, data):
    return struct.pack("=HH", 4 + len(data), kind) + data
ip = socket.inet_aton("10.123.45.1")
R["RTM_NEWADDR"] = nl_request(20, struct.pack("=BBBBI", socket.AF_INET, 24, 0, 0, 1) +
                              rta(2, ip) + rta(1, ip))
rtmsg = struct.pack("=BBBBBBBBI", socket.AF_INET, 24, 0, 0, 254, 4, 0, 1, 0)
R["RTM_NEWROUTE"] = nl_request(24, rtmsg + rta(1, socket.inet_aton("10.123.46.0")) +
                               rta(4, struct.pack("=i", 1)))
attempt("NETLINK_NETFILTER", socket.socket, socket.AF_NETLINK, socket.SOCK_RAW, 12)
attempt("NETLINK_AUDIT", socket.socket, socket.AF_NETLINK, socket.SOCK_RAW, 9)
attempt("NETLINK_ROUTE", socket.socket, socket.AF_NETLINK, socket.SOCK_RAW, 0)
'''


@case("N5", "netlink: address/route changes refused (no CAP_NET_ADMIN); non-route netlink filtered")
def t_n5(ctx):
    ws = ctx.workspace("ws-seccomp")
    check_seccomp(ctx, {"socket_netlink_netfilter": {"EPERM"}, "socket_netlink_audit": {"EPERM"},
                        "socket_netlink_uevent": {"EPERM"}},
                  allowed=["socket_netlink_route"], ws=ws)
    r = ctx.probe(ws, NETLINK_CODE).result
    check(r["RTM_NEWADDR"] == "EPERM" and r["RTM_NEWROUTE"] == "EPERM",
          "inside: RTM_NEWADDR and RTM_NEWROUTE -> EPERM", r)
    check(r["NETLINK_NETFILTER"] == "EPERM" and r["NETLINK_AUDIT"] == "EPERM" and
          r["NETLINK_ROUTE"] == "OK", "inside: only NETLINK_ROUTE sockets can be made", r)
    with open("/proc/net/fib_trie") as f:
        check("10.123.45.1" not in f.read(), "host: the address did not appear on the host")
    ctl = ctx.probe(ws, NETLINK_CODE, policy=ctx.policy(drop_seccomp, "no-seccomp")).result
    check(ctl["NETLINK_NETFILTER"] == "OK",
          "control: without the filter a NETLINK_NETFILTER socket can be made", ctl)


@case("N6", "raw sockets: AF_PACKET filtered, AF_INET SOCK_RAW refused (no CAP_NET_RAW)")
def t_n6(ctx):
    ws = ctx.workspace("ws-seccomp")
    check_seccomp(ctx, {"socket_packet": {"EPERM"}}, ws=ws)
    r, _ = ctx.syscalls(ws, ["socket_inet_raw"])
    check(r["socket_inet_raw"] == "EPERM",
          f"inside: socket(AF_INET, SOCK_RAW) -> {r['socket_inet_raw']}")
    ctl = ctx.host('attempt("raw", socket.socket, socket.AF_INET, socket.SOCK_RAW, 1)\n'
                   'attempt("packet", socket.socket, socket.AF_PACKET, socket.SOCK_RAW, 0)').result
    check(ctl["raw"] == "OK" and ctl["packet"] == "OK",
          "control: outside, root gets both raw sockets", ctl)


@case("N7", "AF_VSOCK is refused by the filter")
def t_n7(ctx):
    check_seccomp(ctx, {"socket_vsock": {"EPERM"}})
    r = ctx.probe(ctx.workspace(), '''
    try:
        s = socket.socket(40, socket.SOCK_STREAM, 0)
        attempt("connect cid 2", s.connect, (2, 1234))
    except OSError as e:
        R["socket"] = en(e.errno)
    ''').result
    check(r.get("socket") == "EPERM", f"inside: socket(AF_VSOCK) for CID 2 -> {r}")


@case("N8", "AF_ALG is refused by the filter")
def t_n8(ctx):
    check_seccomp(ctx, {"socket_alg": {"EPERM"}})


@case("N9", "the host's loopback services (the MCP port) are unreachable")
def t_n9(ctx):
    ws = ctx.workspace()
    lst = socket.socket()
    lst.bind(("127.0.0.1", 0))
    lst.listen()
    port = lst.getsockname()[1]
    code = '''
    s = socket.socket()
    s.settimeout(5)
    attempt("connect", s.connect, ("127.0.0.1", int(ARGS[0])))
    '''
    try:
        r = ctx.probe(ws, code, args=[str(port)]).result
        check(r["connect"] == "ECONNREFUSED", f"inside: connect 127.0.0.1:{port} -> {r['connect']}")
        check(not accepted(lst), "host: the listener got no connection")
        ctl = ctx.probe(ws, code, args=[str(port)],
                        policy=ctx.policy(set_key("network", True), "network")).result
        check(ctl["connect"] == "OK" and accepted(lst),
              "control: with \"network\": true the same connect reaches the host listener")
    finally:
        lst.close()


@case("N10", "the i386 (int 0x80, socketcall) and x32 ABIs kill the process")
def t_n10(ctx):
    check_seccomp(ctx, {"i386_getpid": {"SIGSYS"}, "i386_socketcall_alg": {"SIGSYS"},
                        "i386_vm86old": {"SIGSYS"}, "i386_setns": {"SIGSYS"},
                        "x32_getpid": {"SIGSYS"}, "x32_socket_alg": {"SIGSYS"}})
