#!/usr/bin/python3
"""Sandbox tests: one case per item of THREATS.md section 1 (1a-1g), plus
process-lifetime and status-channel cases.  This file runs one; the cases
are in threats_fs.py (1a), threats_process.py (1b), threats_resources.py
(1c), threats_network.py (1d), threats_kernel.py (1e), threats_leaks.py
(1f), threats_time.py (1g) and threats_status.py, on threatlib.py.  A new
section is a module that star-imports the one before it and is imported
by the next (threats_status.py stays last).

Run with the system interpreter and nothing but the standard library:

    /usr/bin/python3 threats.py --launcher BIN --try-syscall BIN --policy FILE --case F1
    /usr/bin/python3 threats.py --list          # the case ids, one a line
    /usr/bin/python3 threats.py --not-covered   # catalog items without a case, and why

Every case asserts three things:
  (a) what the hostile script sees inside (an errno, a signal, a value);
  (b) what the host sees (a file not created or not changed, a listener that
      got no connection, a marker file that stops growing, no leftover
      process, the figures of the exit event);
  (c) a NEGATIVE CONTROL: the same probe, either run outside the sandbox
      where that is harmless, or under a policy the test weakens (seccomp
      removed, network shared, a limit removed, ...), must show the
      "escaped" outcome.  A layer that silently stopped working therefore
      makes its case fail instead of passing vacuously.
Dangerous probes (kill(-1), fork or memory growth, writes to /proc/sys or
/usr, clock and hostname changes) never run outside the launcher; their
controls use a weakened policy, and every "bomb" is bounded.

Exit status: 0 pass, 1 fail, 77 the machine cannot run the case (printed
loudly; CTest counts 77 as a failure unless PYMCP_ALLOW_SKIP is set).
"""
import sys

from threatlib import *  # noqa: F401,F403
# Each section's module registers its cases; the last imports the others.
from threats_status import *  # noqa: F401,F403


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--launcher")
    ap.add_argument("--try-syscall")
    ap.add_argument("--policy")
    ap.add_argument("--case")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--not-covered", action="store_true")
    args = ap.parse_args()
    if args.list:
        for cid in CASES:
            print(cid)
        return 0
    if args.not_covered:
        for cid, why in NOT_COVERED.items():
            print(f"{cid}: not covered: {why}")
        for cid, why in PARTIAL.items():
            print(f"{cid}: partly covered: {why}")
        return 0
    if not (args.case and args.launcher and args.try_syscall and args.policy):
        ap.error("--case, --launcher, --try-syscall and --policy are required")
    if args.case not in CASES:
        ap.error(f"unknown case {args.case}")
    fn, desc = CASES[args.case]
    log(f"# sandbox.{args.case}: {desc}")
    ctx = None
    try:
        if args.case != "catalog":
            machine_checks()
        ctx = Ctx(args, args.case)
        fn(ctx)
    except Skip as e:
        banner = "#" * 72
        print(f"{banner}\n# SKIPPED sandbox.{args.case}: {e}\n"
              f"# (exit 77: counted as a FAILURE unless PYMCP_ALLOW_SKIP is set)\n{banner}",
              flush=True)
        return SKIP
    except Fail as e:
        print(f"not ok - {e}", flush=True)
        return 1
    except Exception:
        traceback.print_exc()
        print("not ok - the test itself raised", flush=True)
        return 1
    finally:
        if ctx:
            ctx.close()
    log(f"# PASS sandbox.{args.case}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
