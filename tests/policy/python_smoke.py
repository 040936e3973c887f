"""What CPython must still do under the default seccomp filter.

test_seccomp_filter runs this with the filter of policies/default.json
loaded (and nothing else of the sandbox), so a failure here points at the
syscall allow-list.  Exit status 0 means every part worked.
"""
import asyncio
import ctypes
import errno
import fcntl
import multiprocessing
import os
import pty
import selectors
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import termios
import threading
import time


def square(x):
    return x * x


def check_threads():
    results = []
    threads = [threading.Thread(target=lambda i=i: results.append(i)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == list(range(8))


def check_subprocess():
    out = subprocess.run([sys.executable, "-I", "-c", "print(6 * 7)"], capture_output=True,
                         check=True, text=True)
    assert out.stdout.strip() == "42"
    # close_fds=False and no preexec_fn: CPython may use vfork or posix_spawn.
    out = subprocess.run(["/bin/sh", "-c", "echo ok"], capture_output=True, check=True,
                         close_fds=False)
    assert out.stdout == b"ok\n"


def check_multiprocessing():
    for method in ("fork", "spawn", "forkserver"):
        with multiprocessing.get_context(method).Pool(2) as pool:
            assert pool.map(square, range(5)) == [0, 1, 4, 9, 16], method
    lock = multiprocessing.Lock()  # a POSIX semaphore in /dev/shm
    with lock:
        pass


async def echo_roundtrip():
    async def handle(reader, writer):
        writer.write(await reader.readline())
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"ping\n")
    line = await reader.readline()
    writer.close()
    server.close()
    await server.wait_closed()
    proc = await asyncio.create_subprocess_exec(sys.executable, "-I", "-c", "pass")
    assert await proc.wait() == 0
    return line


def check_sockets():
    assert asyncio.run(echo_roundtrip()) == b"ping\n"
    a, b = socket.socketpair()
    a.sendall(b"x")
    assert b.recv(1) == b"x"
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    udp.sendto(b"u", udp.getsockname())
    assert udp.recv(1) == b"u"
    socket.getaddrinfo("localhost", 80)  # NETLINK_ROUTE for AI_ADDRCONFIG
    with selectors.DefaultSelector() as sel:
        sel.register(a, selectors.EVENT_READ)
    try:
        socket.socket(socket.AF_INET6, socket.SOCK_STREAM).close()
    except OSError as e:
        assert e.errno == errno.EAFNOSUPPORT, e
    for family in (socket.AF_PACKET, 38, 40):  # AF_ALG, AF_VSOCK
        try:
            socket.socket(family, socket.SOCK_RAW if family == socket.AF_PACKET else
                          socket.SOCK_SEQPACKET)
        except PermissionError:
            continue
        raise AssertionError(f"socket family {family} was allowed")


def check_tty():
    leader, follower = pty.openpty()
    termios.tcgetattr(follower)
    try:
        fcntl.ioctl(follower, termios.TIOCSTI, b"x")
    except PermissionError:
        pass
    else:
        raise AssertionError("TIOCSTI was allowed")
    os.close(leader)
    os.close(follower)


def check_misc():
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "f")
        with open(path, "w") as f:
            f.write("data")
        os.rename(path, path + "2")
        assert os.listdir(d) == ["f2"]
    assert os.cpu_count() >= 1 and len(os.sched_getaffinity(0)) >= 1
    ctypes.CDLL(None).getpid()
    ssl.create_default_context()
    fired = []
    signal.signal(signal.SIGALRM, lambda *_: fired.append(1))
    signal.setitimer(signal.ITIMER_REAL, 0.01)
    time.sleep(0.1)
    assert fired
    assert os.uname().sysname == "Linux"


def main():
    for check in (check_threads, check_subprocess, check_multiprocessing, check_sockets,
                  check_tty, check_misc):
        check()
        print("ok:", check.__name__, flush=True)


if __name__ == "__main__":
    main()
