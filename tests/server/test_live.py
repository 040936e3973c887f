#!/usr/bin/python3
"""Live jobs over the real stdio transport, with the real launcher, where
the official SDK tests (sdk_live.mjs) cannot look: what the server does
with watches when it shuts down, and the script's own progress as
py_job_status and the job's record keep it.

Usage: test_live.py --server PATH CASE     (CASE "list" prints the cases)
"""
import json
import os
import sys


sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mcp_client import wait_until  # noqa: E402
from test_server import RUN, check, run_cases  # noqa: E402

PROGRESS_SCRIPT = """
import os, time
fd = int(os.environ["PYMCP_PROGRESS_FD"])
for i in range(1, 4):
    os.write(fd, f"progress {i}/3 part {i}\\n".encode())
    time.sleep(0.2)
"""


def case_watches_end_before_the_jobs(env):
    """A subscription, a task status watch and a waiting call when stdin
    closes: the server drops the watches before the jobs and tools they
    watch, and exits 0 (it once read freed memory here)."""
    s = env.server(smart=60)
    long = "import time\nprint('x', flush=True)\ntime.sleep(30)"
    stub = s.call(RUN, {"directory": env.ws, "script_content": long, "async_mode": True})
    s.request("resources/subscribe", {"uri": f"job-stream://{stub['job_id']}"})
    task = s.request("tools/call", {"name": RUN, "task": {"ttl": 60000},
                                    "arguments": {"directory": env.ws, "script_content": long}})
    check("task" in task, "a task-augmented call answers CreateTaskResult", task)
    rid = s.send_request("tools/call", {"name": RUN, "_meta": {"progressToken": 7},
                                        "arguments": {"directory": env.ws,
                                                      "script_content": long}})
    wait_until(lambda: any(n["method"] == "notifications/progress" for n in s.notifications),
               30, "a progress notification of the waiting call")
    s.close_stdin()
    rc = s.wait_exit(60)
    check(rc == 0, f"the server exits 0 with watches open (exit {rc})", s.stderr_tail())
    del rid


def case_script_progress_is_kept(env):
    """PYMCP_PROGRESS_FD fills the job's progress: py_job_status shows the
    last report, and so does the job's record after a restart."""
    s = env.server(smart=60)
    stub = s.call(RUN, {"directory": env.ws, "script_content": PROGRESS_SCRIPT,
                        "async_mode": True})
    job = s.wait_job(stub["job_id"])
    check(job["status"] == "completed", "the job completed", job)
    want = {"current": 3, "total": 3, "message": "part 3"}
    check(job["progress"] == want, "py_job_status: the last report", job["progress"])
    s.stop()
    with open(os.path.join(env.state, "meta", "jobs.json")) as f:
        saved = json.load(f)
    rec = [j for j in saved if j["id"] == stub["job_id"]]
    check(rec and rec[0]["progress"] == want, "jobs.json keeps it", rec)
    s2 = env.server(smart=60)
    check(s2.job(stub["job_id"])["progress"] == want, "and so does a restarted server")



def readme_helper():
    """The three-line helper README.md shows, as it is there."""
    readme = os.path.join(os.path.dirname(__file__), "..", "..", "README.md")
    text = open(readme).read()
    start = text.index("```python\n", text.index("PYMCP_PROGRESS_FD")) + len("```python\n")
    return "\n".join(line.strip() for line in text[start:text.index("```", start)].splitlines())


def case_readme_helper_works(env):
    """The README's helper, pasted into a script, reports progress."""
    helper = readme_helper()
    check(len(helper.strip().splitlines()) == 3, "the helper is three lines", helper)
    script = helper + "\nprogress(2, 4, 'half way')\nprogress(3)\n"
    s = env.server(smart=60)
    r = s.call(RUN, {"directory": env.ws, "script_content": script})
    check(r["exit_code"] == 0, "the helper runs", r)
    jobs = s.call("py_list_jobs", {"limit": 1})["jobs"]
    check(jobs[0]["progress"] == {"current": 3, "total": None, "message": None},
          "the last report is the job's progress", jobs[0])


CASES = {name[5:]: fn for name, fn in sorted(globals().items()) if name.startswith("case_")}

if __name__ == "__main__":
    sys.exit(run_cases(CASES))
