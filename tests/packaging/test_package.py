#!/usr/bin/python3
"""The Debian package, built with CPack from this build tree: its files,
its dependencies, its postinst, and its systemd unit checked by
`systemd-analyze verify` against a root holding the package's files and
this machine's own units (no systemd runs here to start it; the package
is not installed on the machine).

Usage: test_package.py --build DIR
"""
import argparse
import glob
import os
import shutil
import subprocess
import sys
import tempfile


def check(cond, what, detail=""):
    if not cond:
        raise SystemExit(f"FAIL {what}\n{detail}")
    print(f"ok - {what}")


def loud(msg):
    bar = "!" * 78
    print(f"{bar}\n!!! {msg}\n{bar}", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    a = ap.parse_args()
    for tool in ("cpack", "dpkg-deb", "systemd-analyze"):
        if shutil.which(tool) is None:
            loud(f"{tool} is missing: the package test did NOT run")
            return 77
    tmp = tempfile.mkdtemp(prefix="pymcp-package-", dir="/tmp")
    try:
        p = subprocess.run(["cpack", "-G", "DEB", "-B", tmp], cwd=a.build, capture_output=True,
                           text=True, timeout=600)
        debs = glob.glob(os.path.join(tmp, "python-mcp_*.deb"))
        check(p.returncode == 0 and len(debs) == 1, "cpack -G DEB makes one package",
              p.stdout + p.stderr)
        deb = debs[0]
        files = subprocess.run(["dpkg-deb", "-c", deb], capture_output=True, text=True).stdout
        for path in ("./usr/bin/python-mcp", "./usr/bin/python-mcp-sandbox",
                     "./usr/share/python-mcp/policies/default.json",
                     "./usr/share/python-mcp/policies/install.json",
                     "./usr/lib/systemd/system/python-mcp.service",
                     "./usr/share/doc/python-mcp/README.md"):
            check(f" {path}\n" in files or files.rstrip().endswith(f" {path}"),
                  f"the package holds {path}", files)
        info = subprocess.run(["dpkg-deb", "-I", deb], capture_output=True, text=True).stdout
        for dep in ("libuv1", "libjansson4", "libseccomp2", "libh2o0.13", "libcjose0", "python3",
                    "passt", "adduser"):
            check(dep in info, f"it depends on {dep}", info)
        check("postinst" in info, "it has a postinst (the service's user)", info)
        # A root with the package's files and this machine's units, /bin/sh
        # for ExecReload: verify resolves units and commands inside it.
        root = os.path.join(tmp, "root")
        subprocess.run(["dpkg-deb", "-x", deb, root], check=True)
        units = os.path.join(root, "usr", "lib", "systemd", "system")
        for f in os.listdir("/usr/lib/systemd/system"):
            src = os.path.join("/usr/lib/systemd/system", f)
            dst = os.path.join(units, f)
            if not os.path.exists(dst) and os.path.isfile(src) and not os.path.islink(src):
                shutil.copy(src, dst)
        os.makedirs(os.path.join(root, "usr", "bin"), exist_ok=True)
        shutil.copy(os.path.realpath("/bin/sh"), os.path.join(root, "usr", "bin", "sh"))
        for d in ("bin", "lib", "sbin"):
            if not os.path.exists(os.path.join(root, d)):
                os.symlink(f"usr/{d}", os.path.join(root, d))
        v = subprocess.run(["systemd-analyze", "verify", f"--root={root}",
                            "/usr/lib/systemd/system/python-mcp.service"],
                           capture_output=True, text=True, timeout=120)
        complaints = [line for line in (v.stdout + v.stderr).splitlines()
                      if "python-mcp.service" in line]
        check(v.returncode == 0 and not complaints, "systemd-analyze verify accepts the unit",
              v.stdout + v.stderr)
        unit = open(os.path.join(units, "python-mcp.service")).read()
        for want in ("User=python-mcp", "StateDirectory=python-mcp", "--auth-tokens /etc/python-mcp/tokens",
                     "NoNewPrivileges=yes", "ProtectSystem=strict", "CapabilityBoundingSet=\n",
                     "Delegate=yes"):
            check(want in unit, f"the unit has {want.strip()}", unit)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("PASS package")
    return 0


if __name__ == "__main__":
    sys.exit(main())
