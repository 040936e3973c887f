"""An everyday workload of an agent's Python script, one step at a time.

compat.py runs this file with Debian's /usr/bin/python3 twice, inside the
default sandbox and outside it, each time in an empty working directory
(the workspace), and compares the steps: every step must pass outside (or
the machine lacks something the test command installs), and every step
that passes outside must pass inside.

    python3 workload.py [STEP...]     # all steps by default

Prints one line per step, `STEP ok DETAIL` or `STEP FAILED ERROR`, then
`RESULT {json}` with {step: {"ok": bool, "detail": str}}.
Standard library and Debian's python3-* packages only.
"""
import json
import os
import sys
import time
import traceback

STEPS = {}


def step(fn):
    STEPS[fn.__name__] = fn
    return fn


def check(cond, what):
    if not cond:
        raise AssertionError(what)


@step
def numpy_linalg():
    import numpy as np

    # BLAS and LAPACK come through /etc/alternatives on Debian.
    rng = np.random.default_rng(1)
    a = rng.random((300, 300)) + 300 * np.eye(300)
    b = rng.random(300)
    x = np.linalg.solve(a, b)
    check(np.allclose(a @ x, b), "solve")
    check(np.allclose(np.fft.ifft(np.fft.fft(b)).real, b), "fft")
    return f"numpy {np.__version__}, log det {np.linalg.slogdet(a)[1]:.1f}"


@step
def scipy_stack():
    import numpy as np
    from scipy import integrate, linalg, optimize, sparse, stats
    from scipy.sparse.linalg import spsolve

    res = optimize.minimize(lambda v: (v[0] - 3) ** 2 + (v[1] + 1) ** 2, [0, 0])
    check(np.allclose(res.x, [3, -1], atol=1e-4), f"minimize {res.x}")
    w = linalg.eigh(np.diag([3.0, 1.0, 2.0]), eigvals_only=True)
    check(np.allclose(w, [1, 2, 3]), "eigh")
    m = sparse.diags([4.0] * 5).tocsr()
    check(np.allclose(spsolve(m, np.ones(5)), 0.25), "spsolve")
    val, _ = integrate.quad(lambda t: t * t, 0, 3)
    check(abs(val - 9) < 1e-9, "quad")
    check(abs(stats.norm.cdf(0) - 0.5) < 1e-12, "norm")
    return "optimize, linalg, sparse, integrate, stats"


@step
def pandas_frames():
    import pandas as pd

    df = pd.DataFrame({"k": ["a", "b", "a", "c"] * 250, "v": range(1000)})
    g = df.groupby("k")["v"].sum()
    check(g["a"] == sum(range(0, 1000, 4)) + sum(range(2, 1000, 4)), "groupby")
    df.to_csv("frame.csv", index=False)
    back = pd.read_csv("frame.csv")
    check(back.equals(df), "csv round trip")
    stamp = pd.Timestamp("2024-03-31 12:00", tz="Europe/Paris").tz_convert("UTC")
    check(stamp.hour == 10, f"tz {stamp}")
    return f"pandas {pd.__version__}"


@step
def matplotlib_png():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import font_manager

    font = font_manager.findfont("DejaVu Sans", fallback_to_default=False)
    fig, ax = plt.subplots(figsize=(4, 3), dpi=100)
    ax.plot([0, 1, 2], [1, 3, 2], label="line")
    ax.set_title("Title with text: é ∑")
    ax.set_xlabel("x axis")
    ax.text(0.5, 2, "annotation")
    ax.legend()
    fig.savefig("plot.png")
    plt.close(fig)
    with open("plot.png", "rb") as f:
        data = f.read()
    check(data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 5000, f"png {len(data)} bytes")
    return f"matplotlib {matplotlib.__version__}, font {os.path.basename(font)}, {len(data)} bytes"


@step
def sklearn_models():
    from sklearn.datasets import load_iris
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score

    x, y = load_iris(return_X_y=True)
    acc = LogisticRegression(max_iter=500).fit(x, y).score(x, y)
    check(acc > 0.9, f"accuracy {acc}")
    # n_jobs=2: joblib's worker processes and their semaphores.
    scores = cross_val_score(RandomForestClassifier(n_estimators=20, random_state=0), x, y,
                             cv=3, n_jobs=2)
    check(scores.mean() > 0.85, f"cv {scores}")
    return f"accuracy {acc:.2f}, cv {scores.mean():.2f}"


@step
def sqlite():
    import sqlite3

    con = sqlite3.connect("data.db")
    con.execute("create table t (k text, v integer)")
    con.executemany("insert into t values (?, ?)", [(str(i % 7), i) for i in range(10000)])
    con.commit()
    (n,) = con.execute("select count(distinct k) from t").fetchone()
    con.close()
    check(n == 7, f"count {n}")
    mem = sqlite3.connect(":memory:")
    check(mem.execute("select sqlite_version()").fetchone()[0], "version")
    return f"sqlite {sqlite3.sqlite_version}"


def _square(n):
    return n * n


@step
def multiprocessing_pool():
    import multiprocessing

    with multiprocessing.Pool(4) as pool:
        out = pool.map(_square, range(100))
    check(out == [n * n for n in range(100)], "map")
    from multiprocessing import shared_memory

    shm = shared_memory.SharedMemory(create=True, size=1 << 20)
    try:
        shm.buf[:3] = b"abc"
        other = shared_memory.SharedMemory(shm.name)
        seen = bytes(other.buf[:3])
        other.close()
        check(seen == b"abc", "shared memory")
    finally:
        shm.close()
        shm.unlink()
    return "Pool(4).map, SharedMemory"


@step
def subprocesses():
    import subprocess

    out = subprocess.run(["/bin/sh", "-c", "echo $((6 * 7)); ls -d ."], capture_output=True,
                         text=True, check=True).stdout.split()
    check(out == ["42", "."], f"sh {out}")
    out = subprocess.check_output([sys.executable, "-c", "import os; print(os.getpid() > 1)"])
    check(out == b"True\n", f"python {out}")
    p = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    check(p.communicate(b"piped")[0] == b"piped", "pipe")
    return "sh, python, pipes"


@step
def asyncio_loop():
    import asyncio

    async def main():
        async def handle(reader, writer):
            writer.write((await reader.readline()).upper())
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(handle, "localhost", 0)
        port = server.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection("localhost", port)
        writer.write(b"hello\n")
        line = await reader.readline()
        writer.close()
        server.close()
        await server.wait_closed()
        proc = await asyncio.create_subprocess_exec("echo", "sub",
                                                    stdout=asyncio.subprocess.PIPE)
        out, _ = await proc.communicate()
        results = await asyncio.gather(*(asyncio.sleep(0.01, i) for i in range(10)))
        return line, out, results

    line, out, results = asyncio.run(main())
    check(line == b"HELLO\n" and out == b"sub\n" and results == list(range(10)),
          f"{line} {out} {results}")
    return "loopback server, subprocess, gather"


@step
def ssl_default_context():
    import socket
    import ssl
    import threading

    ctx = ssl.create_default_context()
    cas = ctx.cert_store_stats()["x509_ca"]
    check(cas > 50, f"{cas} CA certificates in the default store")
    paths = ssl.get_default_verify_paths()
    # A TLS handshake over loopback with CPython's own test certificates.
    testdir = os.path.join(os.path.dirname(os.__file__), "test")
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(os.path.join(testdir, "keycert3.pem"))
    client = ssl.create_default_context(cafile=os.path.join(testdir, "pycacert.pem"))
    lsock = socket.create_server(("127.0.0.1", 0))
    port = lsock.getsockname()[1]

    def serve():
        conn, _ = lsock.accept()
        with server.wrap_socket(conn, server_side=True) as s:
            s.sendall(s.recv(10).upper())

    t = threading.Thread(target=serve)
    t.start()
    with socket.create_connection(("127.0.0.1", port)) as raw:
        with client.wrap_socket(raw, server_hostname="localhost") as s:
            s.sendall(b"tls")
            got = s.recv(10)
            version = s.version()
    t.join()
    lsock.close()
    check(got == b"TLS", f"echo {got}")
    return f"{cas} CAs in {paths.capath or paths.cafile}, handshake {version}"


@step
def timezones():
    import datetime
    import zoneinfo

    paris = datetime.datetime(2024, 7, 1, 12, tzinfo=zoneinfo.ZoneInfo("Europe/Paris"))
    check(paris.utcoffset() == datetime.timedelta(hours=2), f"offset {paris.utcoffset()}")
    check(len(zoneinfo.available_timezones()) > 300, "tz database")
    local = datetime.datetime.now().astimezone()
    check(local.tzinfo is not None, "local time zone")
    return f"Europe/Paris +2 in July, local {local.tzname()}"


@step
def venv_in_workspace():
    import subprocess

    subprocess.run([sys.executable, "-m", "venv", "venv"], check=True, capture_output=True)
    py = os.path.join("venv", "bin", "python")
    prefix = subprocess.check_output([py, "-c", "import sys; print(sys.prefix)"], text=True)
    check(prefix.strip() == os.path.abspath("venv"), f"prefix {prefix!r}")
    pip = subprocess.run([py, "-m", "pip", "--version"], capture_output=True, text=True)
    check(pip.returncode == 0 and pip.stdout.startswith("pip "), f"pip {pip.stdout}{pip.stderr}")
    return pip.stdout.split(" from ")[0]


@step
def dataframe_500mb():
    import numpy as np
    import pandas as pd

    rows = 500 * (1 << 20) // (8 * 8)
    df = pd.DataFrame(np.random.default_rng(0).random((rows, 8)),
                      columns=[f"c{i}" for i in range(8)])
    size = df.memory_usage(index=False).sum()
    check(size >= 500 << 20, f"{size} bytes")
    df["bucket"] = (df["c0"] * 10).astype("int8")
    means = df.groupby("bucket").mean()
    check(len(means) == 10 and abs(means["c1"].mean() - 0.5) < 0.01, "groupby means")
    total = float(df["c2"].sum())
    check(abs(total / rows - 0.5) < 0.01, "sum")
    return f"{size >> 20} MiB frame, groupby over {rows} rows"


@step
def terminals():
    import pty

    master, slave = os.openpty()
    os.write(master, b"typed\n")
    check(os.read(slave, 100) == b"typed\n", "pty line")
    os.close(master)
    os.close(slave)
    pid, fd = pty.fork()
    if pid == 0:
        os.write(1, b"child on " + os.ttyname(0).encode())
        os._exit(0)
    data = b""
    while True:
        try:
            chunk = os.read(fd, 100)
        except OSError:
            break
        if not chunk:
            break
        data += chunk
    os.waitpid(pid, 0)
    check(data.startswith(b"child on /dev/pts/"), f"pty.fork {data}")
    return data.decode()


@step
def system_files():
    import getpass
    import locale
    import mimetypes
    import platform
    import socket
    import tempfile

    check(mimetypes.guess_type("x.png")[0] == "image/png", "mime png")
    check(socket.getaddrinfo("localhost", 80), "localhost")
    check(socket.getservbyname("https") == 443, "services")
    check(socket.getprotobyname("tcp") == 6, "protocols")
    check(getpass.getuser(), "user name")
    check(locale.setlocale(locale.LC_ALL, ""), "locale")
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "f"), "wb") as f:
            f.write(b"x" * (200 << 20))
    return f"{platform.freedesktop_os_release().get('PRETTY_NAME')}, user {getpass.getuser()}"


def main():
    names = sys.argv[1:] or list(STEPS)
    results = {}
    for name in names:
        start = time.monotonic()
        try:
            detail = STEPS[name]() or ""
            ok = True
        except BaseException as e:  # a step's failure is its result
            ok = False
            # The first and last lines of the message: numpy's ImportError
            # ends with the loader's error ("libblas.so.3: cannot open ...").
            lines = [l.strip() for l in traceback.format_exception_only(type(e), e)
                     if l.strip()]
            lines = [l for l in "\n".join(lines).splitlines() if l.strip()]
            detail = lines[0] if len(lines) < 2 else f"{lines[0]} ... {lines[-1]}"
            detail += "\n" + "".join(traceback.format_tb(e.__traceback__)[-3:])
        took = time.monotonic() - start
        results[name] = {"ok": ok, "detail": detail, "seconds": round(took, 2)}
        print(f"{name} {'ok' if ok else 'FAILED'} ({took:.1f} s) {detail}", flush=True)
    print("RESULT " + json.dumps(results), flush=True)


if __name__ == "__main__":
    main()
