#!/usr/bin/env python3
"""jobs.schemas: the job tools' input and output schemas are valid JSON
Schema 2020-12, every result the tool tests produced (error results too,
which the TypeScript SDK also validates) conforms to its tool's output
schema, and the input schemas accept and refuse what the server does.

Usage: check_schemas.py TEST_BINARY...  (each writes what it recorded to
the file named by its argument; the first one also writes tools/list)"""
import json
import os
import subprocess
import sys
import tempfile

try:
    import jsonschema
except ImportError:
    print("!!! jsonschema is not installed: the schemas are NOT checked.\n"
          "!!! Install python3-jsonschema (scripts/test does).")
    sys.exit(77)

TOOLS = ("py_job_status", "py_list_jobs", "py_cancel_job", "py_prune_jobs")

# (tool, arguments, accepted): the same verdicts as the server's own checks.
INPUTS = [
    ("py_job_status", {"job_id": "x"}, True),
    ("py_job_status", {"job_id": "x", "incremental": False}, True),
    ("py_job_status", {}, False),
    ("py_job_status", {"job_id": 5}, False),
    ("py_job_status", {"job_id": "x", "jobid": "x"}, False),
    ("py_list_jobs", {}, True),
    ("py_list_jobs", {"status_filter": "failed", "limit": 1000}, True),
    ("py_list_jobs", {"limit": 0}, False),
    ("py_list_jobs", {"status_filter": "done"}, False),
    ("py_cancel_job", {"job_id": "x"}, True),
    ("py_cancel_job", {}, False),
    ("py_prune_jobs", {"keep_completed": False, "max_age_hours": 47.5}, True),
    ("py_prune_jobs", {"max_age_hours": -1}, False),
    ("py_prune_jobs", {"keep_failed": 1}, False),
]


def main():
    failures = []
    data = {}
    with tempfile.TemporaryDirectory() as d:
        for i, binary in enumerate(sys.argv[1:]):
            out = os.path.join(d, f"results{i}.json")
            subprocess.run([binary, out], check=True)
            with open(out, encoding="utf-8") as f:
                for key, value in json.load(f).items():
                    data.setdefault(key, []).extend(value)
    tools = {t["name"]: t for t in data.pop("tools")}
    for name in TOOLS:
        tool = tools[name]
        for key in ("inputSchema", "outputSchema"):
            try:
                jsonschema.Draft202012Validator.check_schema(tool[key])
            except jsonschema.SchemaError as e:
                failures.append(f"{name} {key}: {e.message}")
        validator = jsonschema.Draft202012Validator(tool["outputSchema"])
        results = data.get(name, [])
        if not results:
            failures.append(f"{name}: no results were recorded")
        kinds = set()
        for result in results:
            kinds.add("error" if "error" in result and len(result) == 1 else "success")
            for e in validator.iter_errors(result):
                failures.append(f"{name} result {json.dumps(result)[:200]}: {e.message}")
        if kinds != {"error", "success"}:
            failures.append(f"{name}: only {kinds} results were recorded")
    for name, args, accepted in INPUTS:
        ok = jsonschema.Draft202012Validator(tools[name]["inputSchema"]).is_valid(args)
        if ok != accepted:
            failures.append(f"{name} inputSchema {'refuses' if accepted else 'accepts'} {args}")
    for f in failures:
        print(f, file=sys.stderr)
    print(f"jobs.schemas: {len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
