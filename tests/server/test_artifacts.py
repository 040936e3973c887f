#!/usr/bin/python3
"""Artifacts: files a run creates or changes in its directory come back in
its result (`files`, resource links, image blocks) and through
resources/read as job-file://{job_id}/{path}; matplotlib's show() saves
figures there.  The real stdio transport, the real launcher, real
matplotlib (Debian's python3-matplotlib).

Usage: test_artifacts.py --server PATH CASE     (CASE "list" prints the cases)
"""
import base64
import json
import os
import struct
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_server import RUN, check, run_cases  # noqa: E402


def run_full(s, env, code, directory=None, **kw):
    """The whole tools/call result (content blocks too) and its structuredContent."""
    args = {"directory": directory or env.ws, "script_content": code}
    args.update(kw)
    res = s.request("tools/call", {"name": RUN, "arguments": args})
    sc = s.check_result(RUN, res)
    check(not res.get("isError"), "the run succeeded", sc)
    return res, sc


def read(s, uri):
    return s.request("resources/read", {"uri": uri})["contents"][0]


def read_error(s, uri):
    rid = s.send_request("resources/read", {"uri": uri})
    msg = s.wait_response(rid)
    check("error" in msg, f"resources/read {uri} is an error", msg)
    return msg["error"]["message"]


def png_size(data):
    check(data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", "a PNG", data[:16])
    return struct.unpack(">II", data[16:24])


CHART = """
import matplotlib.pyplot as plt
fig = plt.figure(figsize=(4, 3), dpi=100)
plt.plot([1, 2, 3], [1, 4, 9])
plt.show()
plt.figure(figsize=(2, 2), dpi=50)
plt.bar(["a", "b"], [3, 5])
plt.savefig("bars.svg")
plt.show()
print("drawn")
"""


def case_matplotlib_chart(env):
    """plt.show() saves the figure; the result lists it and shows it as an
    image block the test decodes; a savefig'd SVG is an image too; a second
    run does not overwrite the first run's figure."""
    s = env.server()
    res, sc = run_full(s, env, CHART)
    check(sc["stdout"].strip() == "drawn", "the script ran to its end", sc)
    by_path = {f["path"]: f for f in sc.get("files", [])}
    check(set(by_path) == {"figure-1.png", "figure-2.png", "bars.svg"},
          "files: the two shown figures and the SVG", sc.get("files"))
    check(by_path["figure-1.png"]["mime_type"] == "image/png", "a PNG", by_path)
    check(by_path["bars.svg"]["mime_type"] == "image/svg+xml", "an SVG", by_path)
    images = [b for b in res["content"] if b["type"] == "image"]
    links = [b for b in res["content"] if b["type"] == "resource_link"]
    check(len(images) == 3 and len(links) == 3, "three image blocks, three links",
          [b["type"] for b in res["content"]])
    pngs = [base64.b64decode(b["data"]) for b in images if b["mimeType"] == "image/png"]
    sizes = sorted(png_size(p) for p in pngs)
    check(sizes == [(100, 100), (400, 300)], "the figures' sizes in pixels", sizes)
    with open(os.path.join(env.ws, "figure-1.png"), "rb") as f:
        check(f.read() in pngs, "the block holds the file's bytes")
    link = next(b for b in links if b["name"] == "figure-1.png")
    check(link["uri"] == by_path["figure-1.png"]["uri"] and link["mimeType"] == "image/png",
          "the link names the file's uri", link)
    blob = read(s, link["uri"])
    check(base64.b64decode(blob["blob"]) in pngs, "resources/read returns the PNG", blob.keys())
    res2, sc2 = run_full(s, env, CHART)
    paths2 = sorted(f["path"] for f in sc2["files"])
    check(paths2 == ["bars.svg", "figure-3.png", "figure-4.png"],
          "a second run saves new figures and keeps the old ones", paths2)


def case_csv_through_resources(env):
    """A CSV and a file in a subfolder come back through resources/read as
    text; files the run did not touch are not listed; the template is listed."""
    s = env.server()
    with open(os.path.join(env.ws, "old.txt"), "w") as f:
        f.write("untouched\n")
    time.sleep(0.1)  # file times tick coarsely: a file of the same tick counts as new
    code = """
import csv, os
with open("out.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["x", "y"])
    for i in range(100):
        w.writerow([i, i * i])
os.makedirs("sub/deeper", exist_ok=True)
open("sub/deeper/naïve name.txt", "w").write("é\\n")
open("raw.bin", "wb").write(bytes(range(256)))
open("empty.txt", "w").close()
open("controls.txt", "wb").write(b"\x01" * 1000)
"""
    res, sc = run_full(s, env, code)
    files = {f["path"]: f for f in sc["files"]}
    check(set(files) == {"out.csv", "sub/deeper/naïve name.txt", "raw.bin", "empty.txt",
                         "controls.txt"}, "the new files, not old.txt", list(files))
    check(read(s, files["empty.txt"]["uri"]).get("text") == "", "an empty file reads as \"\"")
    ctl = read(s, files["controls.txt"]["uri"])
    check("text" not in ctl and base64.b64decode(ctl["blob"]) == b"\x01" * 1000,
          "text of control characters comes as a blob (not six bytes each)", ctl.keys())
    check(files["out.csv"]["mime_type"] == "text/csv", "text/csv", files["out.csv"])
    with open(os.path.join(env.ws, "out.csv"), newline="") as f:
        want = f.read()
    check(files["out.csv"]["bytes"] == len(want.encode()), "bytes", files["out.csv"])
    got = read(s, files["out.csv"]["uri"])
    check(got.get("text") == want and got["mimeType"] == "text/csv", "the CSV as text",
          {k: str(v)[:80] for k, v in got.items()})
    uri = files["sub/deeper/naïve name.txt"]["uri"]
    check("%20" in uri and "%C3%AF" in uri, "the path is percent-encoded", uri)
    check(read(s, uri)["text"] == "é\n", "a file in a subfolder, by its encoded uri")
    blob = read(s, files["raw.bin"]["uri"])
    check(base64.b64decode(blob["blob"]) == bytes(range(256)) and "text" not in blob,
          "a binary file as a base64 blob", blob)
    templates = s.request("resources/templates/list")["resourceTemplates"]
    check(any(t["uriTemplate"] == "job-file://{job_id}/{path}" for t in templates),
          "resources/templates/list has job-file", templates)
    # The copy is the job's: the workspace changing later does not change it.
    with open(os.path.join(env.ws, "out.csv"), "w") as f:
        f.write("changed\n")
    check(read(s, files["out.csv"]["uri"])["text"] == want, "the kept copy is the run's")
    # A restart keeps the files with the job; pruning removes them.
    s.stop()
    s = env.server()
    check(read(s, files["out.csv"]["uri"])["text"] == want, "kept across a restart")
    jid = files["out.csv"]["uri"].split("/")[2]
    check(os.path.isdir(os.path.join(env.state, "jobs", jid, "files")), "files/ is there")
    s.call("py_prune_jobs", {"max_age_hours": 0, "keep_completed": False})
    check(not os.path.exists(os.path.join(env.state, "jobs", jid)), "pruned with the job")
    msg = read_error(s, files["out.csv"]["uri"])
    check("no job" in msg, "a pruned job's file is not found", msg)


def case_hostile_files(env):
    """What a run leaves to trick the server: links to host files, a link
    to /, a FIFO, names that are not UTF-8, a file swapped for a link:
    nothing outside the workspace is read, the server lives; uris with
    `..` or escapes name nothing."""
    s = env.server()
    code = r"""
import os
os.symlink("/etc/shadow", "shadow-link")
os.symlink("/", "root-link")
os.mkfifo("fifo")
open(b"bad-\xff-name.txt", "wb").write(b"x")
open(b"surrogate-\xed\xa0\x80.txt", "wb").write(b"x")
open(b"overlong-\xc0\xaf.txt", "wb").write(b"x")
open("new\nline.txt", "w").write("x")
os.makedirs("d")
os.symlink("/etc/passwd", "d/passwd")
open("plain.txt", "w").write("ok")
"""
    res, sc = run_full(s, env, code)
    paths = sorted(f["path"] for f in sc.get("files", []))
    check(paths == ["plain.txt"], "only the regular file is listed", sc)
    check("4 names that are not printable UTF-8" in sc.get("files_note", ""),
          "the odd names are noted, a surrogate's too", sc)
    uri = next(f["uri"] for f in sc["files"] if f["path"] == "plain.txt")
    jid = uri.split("/")[2]
    for bad in (f"job-file://{jid}/../../meta/jobs.json", f"job-file://{jid}/%2e%2e/x",
                f"job-file://{jid}/plain.txt%00", f"job-file://{jid}/shadow-link",
                f"job-file://{jid}/", "job-file://nope/plain.txt",
                f"job-file://{jid}/plain.tx%"):
        msg = read_error(s, bad)
        check("Resource not found" in msg, f"{bad}: not found", msg)
    check(read(s, uri)["text"] == "ok", "the real one reads")
    # A run that makes its file a symlink to the host after listing cannot
    # matter: the copy was taken when the run ended, beneath the workspace.
    os.unlink(os.path.join(env.ws, "plain.txt"))
    os.symlink("/etc/passwd", os.path.join(env.ws, "plain.txt"))
    check(read(s, uri)["text"] == "ok", "the kept copy, not the link")


def case_other_owners(env):
    """Files of another user that change while a run works in the
    directory: the run could not read the private one, so the server does
    not read it for the run's result; the public one it lists."""
    if os.geteuid() != 0:
        print("SKIP: files of another owner need root (chown); it did NOT run")
        sys.exit(77)
    s = env.server()
    paths = {}
    for name, mode in (("private.txt", 0o600), ("public.txt", 0o644)):
        paths[name] = os.path.join(env.ws, name)
        with open(paths[name], "w") as f:
            f.write("secret\n" if mode == 0o600 else "anyone\n")
        os.chown(paths[name], 4321, 4321)
        os.chmod(paths[name], mode)
    time.sleep(0.1)
    code = """
import os, time
try:
    open("private.txt").read()
    print("the run read the private file")
except PermissionError:
    pass
while not os.path.exists("go"):
    time.sleep(0.05)
"""
    rid = s.send_call(RUN, {"directory": env.ws, "script_content": code})
    time.sleep(0.5)
    for name in paths:
        with open(paths[name], "a") as f:
            f.write("more\n")
    open(os.path.join(env.ws, "go"), "w").close()
    sc, is_error = s.wait_call(RUN, rid)
    check(not is_error and sc["stdout"] == "", "the run could not read the private file", sc)
    listed = sorted(f["path"] for f in sc.get("files", []))
    check(listed == ["go", "public.txt"], "the private file is not listed", sc)
    check("other owners" in sc.get("files_note", ""), "the note says why", sc)


def case_scratch_runs(env):
    """Runs without a directory work in a tmpfs that ends with them: their
    files come back all the same (the server holds the tmpfs until it has
    them), for a script, a saved script and a session; the host's own
    directories are never what is listed."""
    s = env.server(smart=60)
    code = ("import matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.show()\n"
            "open('out.csv', 'w').write('a\\n1\\n')\nimport os\nos.symlink('/etc', 'etc-link')\n"
            "print(os.getcwd())")
    res = s.request("tools/call", {"name": "py_run_script_with_dependencies",
                                   "arguments": {"script_content": code}})
    sc = s.check_result("py_run_script_with_dependencies", res)
    check(sc["stdout"].strip() == "/workspace", "a scratch workspace", sc)
    check(sorted(f["path"] for f in sc.get("files", [])) == ["figure-1.png", "out.csv"],
          "its files, not the link", sc)
    check([b["type"] for b in res["content"]].count("image") == 1, "the chart as an image",
          [b["type"] for b in res["content"]])
    uri = next(f["uri"] for f in sc["files"] if f["path"] == "out.csv")
    check(read(s, uri)["text"] == "a\n1\n", "the CSV through resources/read")
    s.call("py_save_script", {"script_name": "saved", "source": "open('s.txt', 'w').write('s')"})
    sc = s.call("py_run_saved_script", {"script_name": "saved"})
    check([f["path"] for f in sc.get("files", [])] == ["s.txt"], "a saved script's file", sc)
    sid = s.call("py_session_start", {})["session_id"]
    sc = s.call("py_session_run", {"session_id": sid, "code": "open('t.txt', 'w').write('t')"})
    check([f["path"] for f in sc.get("files", [])] == ["t.txt"], "a scratch session's file", sc)
    check(read(s, sc["files"][0]["uri"])["text"] == "t", "read back")


def case_child_interpreters(env):
    """The backend is chosen inside the interpreters that find it, not
    through the environment: a child started with -I, or with a
    PYTHONPATH of its own, keeps matplotlib's default and works; a plain
    child saves its figures too; MPLBACKEND set by the run wins."""
    s = env.server(smart=60)
    code = r'''
import os, subprocess, sys
probe = ("import matplotlib, matplotlib.pyplot as plt; plt.plot([1]); plt.savefig('c.png'); "
         "print(matplotlib.get_backend())")
for flags, extra in (([], {}), (["-I"], {}), ([], {"PYTHONPATH": "/nonexistent"})):
    r = subprocess.run([sys.executable, *flags, "-c", probe], env=dict(os.environ, **extra),
                       capture_output=True, text=True)
    print(r.returncode, r.stdout.strip(), r.stderr.strip()[-300:])
print("MPLBACKEND" in os.environ)
'''
    out = [line.strip() for line in
           s.call(RUN, {"directory": env.ws, "script_content": code})["stdout"].splitlines()]
    check(out == ["0 module://python_mcp_show", "0 agg", "0 agg", "False"],
          "children work, with or without the backend; no MPLBACKEND in the environment", out)
    r = s.call(RUN, {"directory": env.ws, "env_vars": {"MPLBACKEND": "agg"},
                     "script_content": "import matplotlib.pyplot as plt\nplt.plot([1])\n"
                                       "plt.show()\nimport matplotlib\n"
                                       "print(matplotlib.get_backend())"})
    check(r["stdout"].strip() == "agg" and not [f for f in r.get("files", [])
                                                 if f["path"].startswith("figure-")],
          "MPLBACKEND of the run wins: no figure saved", r)


def case_caps(env):
    """--artifact-max-bytes, --image-max-bytes and --max-images hold, and
    the result says what was left out."""
    s = env.server(args=["--artifact-max-bytes", "20000", "--image-max-bytes", "4000",
                         "--max-images", "1"])
    code = """
import zlib, struct
def png(w, h):
    raw = b"".join(b"\\0" + bytes(w * 3) for _ in range(h))
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    return (b"\\x89PNG\\r\\n\\x1a\\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
open("a.png", "wb").write(png(2, 2))
open("b.png", "wb").write(png(3, 3))
open("big.bin", "wb").write(b"\\0" * 30000)
open("noise.png", "wb").write(__import__("os").urandom(9000))
"""
    res, sc = run_full(s, env, code)
    files = {f["path"]: f for f in sc["files"]}
    check(files["big.bin"].get("kept") is False and "uri" not in files["big.bin"],
          "a file over the run's budget is listed, not kept", files["big.bin"])
    check("--artifact-max-bytes" in sc.get("files_note", ""), "the note names the option", sc)
    check(files["noise.png"]["mime_type"] == "application/octet-stream",
          "a .png that is not a PNG is no image", files["noise.png"])
    images = [b for b in res["content"] if b["type"] == "image"]
    check(len(images) == 1, "--max-images 1: one image block", [b["type"] for b in res["content"]])
    big = s.request("tools/call", {"name": RUN, "arguments": {
        "directory": env.ws, "script_content": "open('c.png','wb').write(open('a.png','rb').read()[:33] + bytes(5000))"}})
    check(not [b for b in big["content"] if b["type"] == "image"],
          "an image over --image-max-bytes is a link only", big["content"])
    # Many files: at most 64 listed; a huge tree: the search stops.
    sc = s.call(RUN, {"directory": env.ws, "script_content":
                      "import os\nos.makedirs('many')\nfor i in range(70):\n"
                      "    open(f'many/{i:03}', 'w').close()"})
    check(sc["exit_code"] == 0 and len(sc.get("files", [])) == 64 and
          "6 more changed files are not listed" in sc.get("files_note", ""),
          "at most 64 files listed, the rest said", sc)
    sc = s.call(RUN, {"directory": env.ws, "script_content":
                      "import os\nos.makedirs('tree')\nfor i in range(5000):\n"
                      "    os.mkdir(f'tree/{i}')"})
    check(sc["exit_code"] == 0 and "stopped after 4096 entries" in sc.get("files_note", ""),
          "the search of a huge tree stops, and says so", sc)
    s.stop()
    off = env.server(args=["--artifact-max-bytes", "0"])
    sc = off.call(RUN, {"directory": env.ws, "script_content": "open('x.txt','w').write('x')"})
    check("files" not in sc, "--artifact-max-bytes 0: no files", sc)


CASES = {name[5:]: fn for name, fn in sorted(globals().items()) if name.startswith("case_")}

if __name__ == "__main__":
    sys.exit(run_cases(CASES))
