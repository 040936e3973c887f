#!/usr/bin/python3
"""Authorization and tenants over Streamable HTTP, end to end: the real
server with a token file or a JWKS, raw HTTP requests, real jobs.

  tokens   static bearer tokens: 401 with the metadata's address, the RFC
           9728 metadata, tenant A's job invisible to tenant B through
           every tool, resource, completion and task method (and a legacy
           session of A unusable with B's token), SIGHUP reloads the file
           and a broken file leaves the old tokens in force
  jwt      JWTs signed with a key the test makes (python3-jwt): issuer,
           audience, expiry, the tenant from `sub`, scopes enforced with
           403 insufficient_scope, and the same isolation

Usage: test_auth.py --server PATH CASE
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from http_client import META, MODERN, Fail, Server, check, run_case  # noqa: E402

CASES = {}
RUN = "py_run_script_in_dir"
TASKS = "io.modelcontextprotocol/tasks"


def case(fn):
    CASES[fn.__name__] = fn
    return fn


def header(resp, name):
    return resp.headers.get(name.lower(), "")


class Client:
    """One tenant's view of the server: every request with its token.
    `tenant` names its folder below the workspace root."""

    def __init__(self, server, token, tenant=None):
        self.s = server
        self.tenant = tenant
        self.auth = {"Authorization": f"Bearer {token}"} if token else {}

    def modern(self, method, params=None, name=None, caps=None):
        p = dict(params or {})
        meta = dict(META)
        if caps:
            meta["io.modelcontextprotocol/clientCapabilities"] = caps
        p["_meta"] = meta
        h = {"MCP-Protocol-Version": MODERN, "Mcp-Method": method, **self.auth}
        if name is not None:
            h["Mcp-Name"] = name
        return self.s.request(body={"jsonrpc": "2.0", "id": 1, "method": method, "params": p},
                              headers=h)

    def call(self, tool, args):
        r = self.modern("tools/call", {"name": tool, "arguments": args}, name=tool)
        check(r.status == 200, f"{tool}: 200", (r.status, r.body))
        return r.json()["result"]

    def structured(self, tool, args):
        res = self.call(tool, args)
        check(not res.get("isError"), f"{tool} succeeds", res)
        return res["structuredContent"]


def start_job(alice, ws):
    stub = alice.structured(RUN, {"directory": os.path.join(ws, alice.tenant), "async_mode": True,
                                  "script_content": "print('secret of alice')\n"
                                  "open('alice.txt', 'w').write('file secret of alice')"})
    jid = stub["job_id"]
    deadline = time.time() + 60
    while time.time() < deadline:
        job = alice.structured("py_job_status", {"job_id": jid})["job"]
        if job["status"] in ("completed", "failed", "cancelled"):
            break
        time.sleep(0.1)
    check(job["status"] == "completed" and "secret of alice" in job["result"]["stdout"],
          "tenant A's job ran", job)
    return jid


def isolation(alice, bob, ws, tenant_cap=False):
    """Tenant B neither sees, reads, cancels nor prunes tenant A's job."""
    jid = start_job(alice, ws)
    for tool, args in (("py_job_status", {"job_id": jid}), ("py_cancel_job", {"job_id": jid})):
        res = bob.call(tool, args)
        text = json.dumps(res)
        check(res.get("isError") and "not found" in text and "secret" not in text,
              f"B: {tool} of A's job answers 'not found'", res)
    listed = bob.structured("py_list_jobs", {})
    check(listed["jobs"] == [] and listed["total"] == 0, "B: py_list_jobs shows nothing", listed)
    pruned = bob.structured("py_prune_jobs", {"keep_completed": False, "max_age_hours": 0})
    check(pruned["removed"] == 0 and pruned["remaining"] == 0, "B: py_prune_jobs prunes nothing",
          pruned)
    uri = f"job-stream://{jid}"
    r = bob.modern("resources/read", {"uri": uri}, name=uri)
    check("error" in r.json() and "secret" not in r.body.decode(), "B: resources/read fails",
          r.body)
    # The files her run left: job-file:// is hers only.
    uri = f"job-file://{jid}/alice.txt"
    r = bob.modern("resources/read", {"uri": uri}, name=uri)
    check("error" in r.json() and "secret" not in r.body.decode(),
          "B: resources/read of A's job-file fails", r.body)
    r = alice.modern("resources/read", {"uri": uri}, name=uri)
    check(r.json()["result"]["contents"][0]["text"] == "file secret of alice",
          "A: resources/read of her job-file", r.body)
    r = bob.modern("completion/complete", {"ref": {"type": "ref/resource",
                                                   "uri": "job-stream://{job_id}"},
                                           "argument": {"name": "job_id", "value": jid[:3]}})
    check(r.json()["result"]["completion"]["values"] == [], "B: completion offers nothing",
          r.body)
    for method in ("tasks/get", "tasks/cancel"):
        r = bob.modern(method, {"taskId": jid}, name=jid, caps={"extensions": {TASKS: {}}})
        check("error" in r.json(), f"B: {method} of A's job fails", r.body)
    # And A still has it all.
    check(alice.structured("py_job_status", {"job_id": jid})["job"]["status"] == "completed",
          "A's job survived B's attempts")
    check(len(alice.structured("py_list_jobs", {})["jobs"]) == 1, "A lists it")
    r = alice.modern("tasks/get", {"taskId": jid}, name=jid, caps={"extensions": {TASKS: {}}})
    check(r.json()["result"]["status"] == "completed", "A: tasks/get", r.body)
    # Her session is hers only.
    sid = alice.structured("py_session_start", {"directory": os.path.join(ws, alice.tenant)})[
        "session_id"]
    alice.structured("py_session_run", {"session_id": sid, "code": "secret = 'of alice'"})
    for tool, args in (("py_session_run", {"session_id": sid, "code": "secret"}),
                       ("py_session_close", {"session_id": sid})):
        res = bob.call(tool, args)
        text = json.dumps(res)
        check(res.get("isError") and "no session" in text and "of alice" not in text,
              f"B: {tool} of A's session answers 'no session'", res)
    check(bob.structured("py_session_list", {})["sessions"] == [], "B lists no session")
    if tenant_cap:
        res = alice.call("py_session_start", {"directory": os.path.join(ws, alice.tenant)})
        check(res.get("isError") and "--tenant-max-sessions" in json.dumps(res),
              "A's second session is refused, naming the cap", res)
        other = bob.structured("py_session_start", {"directory": os.path.join(ws, bob.tenant)})
        bob.structured("py_session_close", {"session_id": other["session_id"]})
    check(alice.structured("py_session_run", {"session_id": sid, "code": "secret"})["value"]
          == "'of alice'", "A's session is untouched")
    alice.structured("py_session_close", {"session_id": sid})
    # Workspaces: each tenant's own folder below the root (made on first
    # use); another's, the root itself, or a link into another's fail.
    mine = os.path.join(ws, bob.tenant)
    check(bob.structured(RUN, {"directory": mine, "script_content": "print(2)"})["stdout"] == "2\n",
          "B runs in its own folder")
    # Relative: it stays beneath the root, so only the tenant check stops it.
    os.symlink(f"../{bob.tenant}", os.path.join(ws, alice.tenant, "to-bob"))
    for what, directory in (("A's folder", os.path.join(ws, alice.tenant)), ("the root", ws)):
        res = bob.call(RUN, {"directory": directory, "script_content": "print(1)"})
        check(res.get("isError") and "not in your workspaces" in json.dumps(res),
              f"B cannot run in {what}", res)
    res = alice.call(RUN, {"directory": os.path.join(ws, alice.tenant, "to-bob"),
                           "script_content": "print(1)"})
    check(res.get("isError") and "not in your workspaces" in json.dumps(res),
          "a link from A's folder into B's is refused", res)
    # Saved scripts are per tenant.
    alice.structured("py_save_script", {"script_name": "mine", "source": "print('a')\n"})
    check(bob.structured("py_list_scripts", {})["result"] == [], "B sees none of A's scripts")
    res = bob.call("py_run_saved_script", {"script_name": "mine"})
    check(res.get("isError"), "B cannot run A's script", res)
    check(alice.structured("py_run_saved_script", {"script_name": "mine"})["stdout"] == "a\n",
          "A runs its own script")
    return jid


def hangup(s, said):
    """SIGHUP, then until the log says `said` (at most 10 s)."""
    s.proc.send_signal(signal.SIGHUP)
    deadline = time.time() + 10
    while said not in s.logs() and time.time() < deadline:
        time.sleep(0.05)


def legacy_session(s, token):
    h = {"Authorization": f"Bearer {token}"}
    r = s.request(body={"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "t", "version": "1"}}}, headers=h)
    check(r.status == 200, "legacy initialize with a token", (r.status, r.body))
    return header(r, "mcp-session-id")


@case
def tokens(binary):
    base_tokens = "alice tok-alice-0123456789abcdef\nbob tok-bob-0123456789abcdef\n"
    secrets = tempfile.mkdtemp(prefix="pymcp-auth-", dir="/tmp")
    tokfile = os.path.join(secrets, "tokens")
    with open(tokfile, "w") as f:
        f.write(base_tokens)
    s = None
    try:
        s = Server(binary, ["--auth-tokens", tokfile, "--tenant-max-jobs", "2",
                            "--tenant-max-sessions", "1",
                            "--metrics-tenant", "alice"])
        body = {"jsonrpc": "2.0", "id": 1, "method": "server/discover", "params": {"_meta": META}}
        h = {"MCP-Protocol-Version": MODERN, "Mcp-Method": "server/discover"}
        r = s.request(body=body, headers=h)
        meta_url = f"http://127.0.0.1:{s.port}/.well-known/oauth-protected-resource/mcp"
        check(r.status == 401 and f'resource_metadata="{meta_url}"' in header(r, "www-authenticate"),
              "no token: 401 naming the metadata", (r.status, r.headers))
        r = s.request(body=body, headers=dict(h, Authorization="Bearer nope"))
        check(r.status == 401 and 'error="invalid_token"' in header(r, "www-authenticate"),
              "a wrong token: 401 invalid_token", (r.status, r.headers))
        r = s.request(method="GET", path="/.well-known/oauth-protected-resource/mcp")
        meta = r.json()
        check(r.status == 200 and meta["scopes_supported"] == ["python-mcp:run", "python-mcp:jobs"]
              and meta["resource"].endswith("/mcp"), "the protected resource metadata", r.body)
        alice = Client(s, "tok-alice-0123456789abcdef", "alice")
        bob = Client(s, "tok-bob-0123456789abcdef", "bob")
        check(s.request(method="GET", path="/healthz").status == 200, "/healthz needs no token")
        check(s.request(method="GET", path="/metrics").status == 401, "/metrics needs one")
        check(s.request(method="GET", path="/metrics", headers=alice.auth).status == 200,
              "/metrics with the --metrics-tenant's token")
        check(s.request(method="GET", path="/metrics", headers=bob.auth).status == 403,
              "/metrics with another tenant's token: 403")
        isolation(alice, bob, s.ws, tenant_cap=True)
        # A tenant folder that others may write is not the tenant's (one
        # made first by someone else in a shared root).
        folder = os.path.join(s.ws, "alice")
        os.chmod(folder, 0o777)
        res = alice.call(RUN, {"directory": folder, "script_content": "print(1)"})
        check(res.get("isError") and "not this server's own" in json.dumps(res),
              "a tenant folder others may write is refused", res)
        os.chmod(folder, 0o700)
        # One tenant's pending and running jobs are capped.
        long = {"directory": os.path.join(s.ws, "alice"), "async_mode": True,
                "script_content": "import time\ntime.sleep(60)"}
        ids = [alice.structured(RUN, long)["job_id"] for _ in range(2)]
        res = alice.call(RUN, long)
        check(res.get("isError") and "--tenant-max-jobs" in json.dumps(res),
              "a third job of one tenant is refused, naming the cap", res)
        check(not bob.call(RUN, {"directory": os.path.join(s.ws, "bob"),
                                 "script_content": "print(1)"}).get("isError"),
              "another tenant still runs")
        for jid in ids:
            alice.structured("py_cancel_job", {"job_id": jid})
        # A legacy session is its maker's.
        sid = legacy_session(s, "tok-alice-0123456789abcdef")
        ping = {"jsonrpc": "2.0", "id": 2, "method": "ping"}
        r = s.request(body=ping, headers={"Mcp-Session-Id": sid, "MCP-Protocol-Version": "2025-11-25",
                                          "Authorization": "Bearer tok-bob-0123456789abcdef"})
        check(r.status == 404, "B cannot use A's legacy session", (r.status, r.body))
        r = s.request(body=ping, headers={"Mcp-Session-Id": sid, "MCP-Protocol-Version": "2025-11-25",
                                          "Authorization": "Bearer tok-alice-0123456789abcdef"})
        check(r.status == 200, "A can", (r.status, r.body))
        # SIGHUP reloads the file; a broken one leaves the old in force.
        with open(tokfile, "w") as f:
            f.write("carol tok-carol-0123456789abcdef\n")
        hangup(s, "tokens reloaded")
        check("tokens reloaded; 1 sessions of tenants without a token ended" in s.logs(),
              "SIGHUP ends the legacy session of a tenant that lost its token", s.logs())
        check(Client(s, "tok-carol-0123456789abcdef").modern("server/discover").status == 200,
              "after SIGHUP a new token works")
        check(alice.modern("server/discover").status == 401, "and a removed one does not")
        with open(tokfile, "w") as f:
            f.write("broken-line-without-a-token\n")
        hangup(s, "not reloaded")
        check("not reloaded" in s.logs(), "a broken file is reported", s.logs())
        check(Client(s, "tok-carol-0123456789abcdef").modern("server/discover").status == 200,
              "and the old tokens stay")
    finally:
        if s:
            s.stop()
            s.cleanup()
        shutil.rmtree(secrets, ignore_errors=True)


@case
def fair_caps(binary):
    """The server-wide caps (jobs kept, bytes of output kept) push out the
    history of the tenant that holds the most, never a quiet neighbour's."""
    secrets = tempfile.mkdtemp(prefix="pymcp-auth-", dir="/tmp")
    tokfile = os.path.join(secrets, "tokens")
    with open(tokfile, "w") as f:
        f.write("alice tok-alice-0123456789abcdef\nbob tok-bob-0123456789abcdef\n")
    s = Server(binary, ["--auth-tokens", tokfile, "--max-stored-jobs", "16",
                        "--max-state-bytes", str(1 << 20)])
    try:
        alice = Client(s, "tok-alice-0123456789abcdef", "alice")
        bob = Client(s, "tok-bob-0123456789abcdef", "bob")

        def run(who, kib):
            res = who.structured(RUN, {"directory": os.path.join(s.ws, who.tenant),
                                       "script_content": f"print('{who.tenant}' * {kib * 205})"})
            check(res["exit_code"] == 0, f"{who.tenant}'s job ran", res)

        for _ in range(2):
            run(bob, 10)
        bobs = [j["id"] for j in bob.structured("py_list_jobs", {})["jobs"]]
        check(len(bobs) == 2, "bob has two jobs", bobs)
        for _ in range(18):  # 18 more jobs and 1.8 MiB: past both caps
            run(alice, 100)
        for jid in bobs:
            job = bob.structured("py_job_status", {"job_id": jid})["job"]
            out = job["result"]["stdout"]
            check(out.startswith("bob") and len(out) > 6000, "bob's job and output are kept",
                  {k: job[k] for k in ("id", "status")})
        kept = len(alice.structured("py_list_jobs", {"limit": 100})["jobs"])
        check(kept <= 14, "alice's own oldest jobs made the room", kept)
    finally:
        s.stop()
        s.cleanup()
        shutil.rmtree(secrets, ignore_errors=True)


def make_key(base):
    import jwt
    from cryptography.hazmat.primitives.asymmetric import rsa
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update({"kid": "k1", "alg": "RS256", "use": "sig"})
    path = os.path.join(base, "jwks.json")
    with open(path, "w") as f:
        json.dump({"keys": [jwk]}, f)
    return key, path


def token(key, sub, scope, aud="https://mcp.test/mcp", iss="https://issuer.test", exp=300,
          kid="k1"):
    import jwt
    now = int(time.time())
    return jwt.encode({"iss": iss, "aud": aud, "sub": sub, "scope": scope, "iat": now,
                       "exp": now + exp}, key, algorithm="RS256", headers={"kid": kid})


def public_jwk(key, kid):
    import jwt
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update({"kid": kid, "alg": "RS256", "use": "sig"})
    return jwk


class JwksServer:
    """The issuer's jwks_uri: a real HTTP server on loopback, in a thread,
    whose document the test changes (a key rotation) or takes away."""

    def __init__(self, doc, tls=None):
        import http.server
        import threading
        self.doc, self.fetches, self.down = doc, 0, False
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                outer.fetches += 1
                body = json.dumps(outer.doc).encode()
                self.send_response(503 if outer.down else 200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        scheme = "http"
        if tls:
            import ssl
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*tls)
            self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
            scheme = "https"
        self.url = f"{scheme}://127.0.0.1:{self.httpd.server_address[1]}/jwks.json"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def make_tls(base):
    """A CA of the test's own and a certificate for 127.0.0.1 it signed."""
    def openssl(*args):
        subprocess.run(["openssl", *args], cwd=base, check=True, capture_output=True)
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out",
            "ca.pem", "-days", "1", "-subj", "/CN=python-mcp test CA")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "srv.key", "-out", "srv.csr",
            "-subj", "/CN=127.0.0.1")
    with open(os.path.join(base, "san.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", "srv.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "srv.pem", "-days", "1", "-extfile", "san.ext")
    return tuple(os.path.join(base, f) for f in ("ca.pem", "srv.pem", "srv.key"))


def https_issuer(binary, key, flags, scope):
    """Over TLS: a certificate the system does not trust stops the start
    with the verification error; trusted (SSL_CERT_FILE names the test's
    CA, as OpenSSL reads it), the keys are fetched and tokens accepted."""
    base = tempfile.mkdtemp(prefix="pymcp-tls-", dir="/tmp")
    ca, cert, pkey = make_tls(base)
    issuer = JwksServer({"keys": [public_jwk(key, "k1")]}, tls=(cert, pkey))
    try:
        p = subprocess.run([binary, "--transport", "http", "--listen", "127.0.0.1:0",
                            "--state-dir", os.path.join(base, "state"), "--auth-jwks",
                            issuer.url, *flags], capture_output=True, text=True, timeout=60)
        check(p.returncode != 0 and "TLS to `127.0.0.1`" in p.stderr and issuer.fetches == 0,
              "an untrusted certificate stops the start", (p.returncode, p.stderr[-2000:]))
        s = Server(binary, ["--auth-jwks", issuer.url, *flags], env={"SSL_CERT_FILE": ca})
        try:
            check(accepted(s, token(key, "alice", scope)), "keys fetched over TLS work")
        finally:
            s.stop()
            s.cleanup()
    finally:
        issuer.stop()
        shutil.rmtree(base, ignore_errors=True)


def accepted(s, tok):
    return Client(s, tok).modern("server/discover").status == 200


@case
def jwks_url(binary):
    """--auth-jwks URL: fetched at start, again on a key id it does not
    hold (a rotation, rate-limited), on its timer; a failed fetch keeps the
    old keys; plain http only to loopback; an issuer that cannot be reached
    at start stops the start, with the URL and why."""
    from cryptography.hazmat.primitives.asymmetric import rsa
    k1 = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    k2 = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    issuer = JwksServer({"keys": [public_jwk(k1, "k1")]})
    flags = ["--auth-issuer", "https://issuer.test", "--auth-audience", "https://mcp.test/mcp"]
    both = "python-mcp:run python-mcp:jobs"
    s = Server(binary, ["--auth-jwks", issuer.url, "--auth-jwks-refresh", "2", *flags])
    try:
        check(issuer.fetches == 1, "fetched once at start", issuer.fetches)
        check(accepted(s, token(k1, "alice", both)), "a token of the served key is accepted")
        # The issuer rotates: k2 joins.  The first token of k2 is refused
        # and starts a fetch; a retry soon after is accepted.
        issuer.doc = {"keys": [public_jwk(k1, "k1"), public_jwk(k2, "k2")]}
        deadline = time.monotonic() + 30
        while not accepted(s, token(k2, "alice", both, kid="k2")):
            check(time.monotonic() < deadline, "a rotated-in key is accepted within 30 s",
                  s.logs())
            time.sleep(0.5)
        # The issuer goes away: the keys it gave stay.
        issuer.down = True
        before = issuer.fetches
        deadline = time.monotonic() + 30
        while issuer.fetches < before + 2:
            check(time.monotonic() < deadline, "the timer fetches again", issuer.fetches)
            time.sleep(0.5)
        check(accepted(s, token(k1, "alice", both)), "the old keys stay when a fetch fails")
        check("JWKS not refreshed, the old 2 keys stay" in s.logs(), "the failure is logged",
              s.logs())
    finally:
        s.stop()
        s.cleanup()
        issuer.stop()
    https_issuer(binary, k1, flags, both)
    # Plain http elsewhere than loopback, and an issuer down at start.
    state = tempfile.mkdtemp(prefix="pymcp-auth-state-", dir="/tmp")
    for url, words in (("http://issuer.test/jwks.json", "plain http"),
                       (issuer.url, "connect to `127.0.0.1`")):
        p = subprocess.run([binary, "--transport", "http", "--listen", "127.0.0.1:0",
                            "--state-dir", state, "--auth-jwks", url, *flags],
                           capture_output=True, text=True, timeout=60)
        check(p.returncode != 0 and words in p.stderr and url in p.stderr,
              f"refused at start: {url}", (p.returncode, p.stderr[-2000:]))
    shutil.rmtree(state, ignore_errors=True)


@case
def jwt(binary):
    try:
        import jwt as _  # noqa: F401
    except ImportError:
        raise Fail("python3-jwt is missing (scripts/lib.sh installs it)")
    base = tempfile.mkdtemp(prefix="pymcp-auth-", dir="/tmp")
    key, jwks = make_key(base)
    s = Server(binary, ["--auth-jwks", jwks, "--auth-issuer", "https://issuer.test",
                        "--auth-audience", "https://mcp.test/mcp",
                        "--auth-resource", "https://mcp.test/mcp",
                        "--auth-server", "https://issuer.test"])
    try:
        both = "python-mcp:run python-mcp:jobs"
        alice = Client(s, token(key, "alice", both), jwt_tenant("alice"))
        bob = Client(s, token(key, "bob", both), jwt_tenant("bob"))
        isolation(alice, bob, s.ws)
        r = s.request(method="GET", path="/.well-known/oauth-protected-resource/mcp")
        check(r.json()["authorization_servers"] == ["https://issuer.test"]
              and r.json()["resource"] == "https://mcp.test/mcp", "metadata from the flags", r.body)
        # Scopes: a jobs-only token cannot run code, a run-only one cannot
        # read jobs; both get 403 insufficient_scope.
        jobs_only = Client(s, token(key, "alice", "python-mcp:jobs"))
        r = jobs_only.modern("tools/call", {"name": RUN, "arguments": {
            "directory": s.ws, "script_content": "print(1)"}}, name=RUN)
        check(r.status == 403 and 'error="insufficient_scope"' in header(r, "www-authenticate")
              and "python-mcp:run" in r.body.decode(), "jobs-only token: 403 to run code",
              (r.status, r.headers, r.body))
        check(len(jobs_only.structured("py_list_jobs", {})["jobs"]) >= 1,
              "jobs-only token lists its tenant's jobs")
        run_only = Client(s, token(key, "alice", "python-mcp:run"))
        r = run_only.modern("tools/call", {"name": "py_list_jobs", "arguments": {}},
                            name="py_list_jobs")
        check(r.status == 403 and "python-mcp:jobs" in r.body.decode(),
              "run-only token: 403 to list jobs", (r.status, r.body))
        stream_ends_with_its_token(s, key, both)
        for what, tok in (("expired", token(key, "alice", both, exp=-600)),
                          ("another audience", token(key, "alice", both, aud="https://other/mcp")),
                          ("another issuer", token(key, "alice", both, iss="https://evil")),
                          ("unsigned", jwt_none("alice"))):
            r = Client(s, tok).modern("server/discover")
            check(r.status == 401 and "invalid_token" in header(r, "www-authenticate"),
                  f"{what} token: 401 invalid_token", (r.status, r.headers))
    finally:
        s.stop()
        s.cleanup()
        shutil.rmtree(base, ignore_errors=True)


def open_stream(s, tok):
    """A legacy session of `tok` and its GET stream: the socket, headers read."""
    auth = {"Authorization": f"Bearer {tok}"}
    r = s.request(body={"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "t", "version": "1"}}}, headers=auth)
    sid = r.headers.get("mcp-session-id", "")
    check(r.status == 200 and sid, "a legacy session with a JWT", (r.status, r.body))
    g = s.connect()
    s.send(g, "GET", headers={"Mcp-Session-Id": sid, "Accept": "text/event-stream", **auth})
    g.settimeout(10)
    head = g.recv(4096)
    check(head.startswith(b"HTTP/1.1 200"), "the GET stream opens", head)
    return g


def stream_ends_with_its_token(s, key, scopes):
    """A GET stream lives no longer than the token that opened it: this one
    expired 56 s ago, which the 60 s leeway accepts for about 4 s more; a
    stream of a fresh token stays open past that."""
    short = open_stream(s, token(key, "alice", scopes, exp=-56))
    long = open_stream(s, token(key, "alice", scopes))
    rest, closed = b"", False
    deadline = time.time() + 30  # keep-alive comments come every 15 s
    while not closed and time.time() < deadline:
        try:
            chunk = short.recv(4096)
        except TimeoutError:
            break
        closed = chunk == b""
        rest += chunk
    short.close()
    check(closed, "the server closes the stream", rest)
    check(b"access token expired" in rest, "the stream ends saying the token expired", rest)
    long.setblocking(False)
    try:
        still_open = long.recv(4096) != b""
    except BlockingIOError:
        still_open = True
    long.close()
    check(still_open, "a stream of a valid token stays open")
    check("the access token that opened it expired" in s.logs(), "the log says why")


def jwt_tenant(sub, iss="https://issuer.test"):
    """What the server names a JWT's tenant: jwt- and a digest of issuer
    and subject, never the claim itself."""
    import hashlib
    return "jwt-" + hashlib.sha256(iss.encode() + b"\0" + sub.encode()).hexdigest()[:32]


def jwt_none(sub):
    import base64

    def b64(o):
        return base64.urlsafe_b64encode(json.dumps(o).encode()).rstrip(b"=").decode()
    now = int(time.time())
    return b64({"alg": "none", "typ": "JWT"}) + "." + b64({
        "iss": "https://issuer.test", "aud": "https://mcp.test/mcp", "sub": sub,
        "scope": "python-mcp:run python-mcp:jobs", "exp": now + 300}) + "."


if __name__ == "__main__":
    sys.exit(run_case(CASES))
