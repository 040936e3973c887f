// What the TypeScript SDK tests share: the SDK chosen on the command line
// (the 1.x SDK, protocol 2025-11-25, or the v2 client pinned to
// 2026-07-28), a fresh state directory and workspace root, python-mcp
// started over stdio (by the SDK) or over Streamable HTTP (by us, on a free
// port), checks that print what they saw, and a clean end.
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";

export const MODERN = "2026-07-28";

export function check(cond, what, got) {
  if (!cond) {
    throw new Error(`${what}${got === undefined ? "" : `\n  got: ${JSON.stringify(got)}`}`);
  }
  console.log(`ok - ${what}`);
}

export function parseArgs(usage) {
  const [server, sdk, transportKind] = process.argv.slice(2);
  if (!server || !["v1", "v2"].includes(sdk) || !["stdio", "http"].includes(transportKind)) {
    console.error(`usage: node ${usage} SERVER v1|v2 stdio|http`);
    process.exit(2);
  }
  return { server, sdk, transportKind };
}

export async function loadSdk(sdk) {
  const pkg = sdk === "v1" ? "@modelcontextprotocol/sdk" : "@modelcontextprotocol/client";
  const version = JSON.parse(
    readFileSync(new URL(`./node_modules/${pkg}/package.json`, import.meta.url)),
  ).version;
  const lib =
    sdk === "v1"
      ? {
          Client: (await import("@modelcontextprotocol/sdk/client/index.js")).Client,
          Stdio: (await import("@modelcontextprotocol/sdk/client/stdio.js")).StdioClientTransport,
          Http: (await import("@modelcontextprotocol/sdk/client/streamableHttp.js"))
            .StreamableHTTPClientTransport,
          types: await import("@modelcontextprotocol/sdk/types.js"),
        }
      : {
          Client: (await import("@modelcontextprotocol/client")).Client,
          Stdio: (await import("@modelcontextprotocol/client/stdio")).StdioClientTransport,
          Http: (await import("@modelcontextprotocol/client")).StreamableHTTPClientTransport,
          types: await import("@modelcontextprotocol/client"),
        };
  return { pkg, version, lib };
}

// A connected client.  env: extra server environment.  Returns what the
// test needs and finish(ok), which stops everything and removes the
// directories of a passed run.
// pin: the protocol the v2 client is pinned to (2026-07-28 by default).
export async function connect({ server, sdk, transportKind, env = {}, clientName, pin = MODERN }) {
  const { pkg, version, lib } = await loadSdk(sdk);
  console.log(`${pkg} ${version} over ${transportKind}`);
  const base = mkdtempSync("/tmp/pymcp-sdk-");
  const h = {
    sdk,
    transportKind,
    lib,
    base,
    state: `${base}/state`,
    root: `${base}/roots`,
    ws: `${base}/roots/ws`,
    outside: `${base}/outside`,
    url: null,
    stderr: "",
    httpServer: null,
    negotiated: undefined,
  };
  mkdirSync(h.ws, { recursive: true });
  mkdirSync(h.outside);
  const serverArgs = ["--state-dir", h.state, "--workspace-root", h.root];
  const serverEnv = { ...process.env, ...env };
  let transport;
  if (transportKind === "stdio") {
    transport = new lib.Stdio({ command: server, args: serverArgs, env: serverEnv, stderr: "pipe" });
    transport.stderr?.on("data", (d) => {
      h.stderr += d.toString();
    });
  } else {
    h.httpServer = spawn(server, ["--transport", "http", "--listen", "127.0.0.1:0", ...serverArgs], {
      env: serverEnv,
      stdio: ["ignore", "ignore", "pipe"],
    });
    const port = await new Promise((resolve, reject) => {
      h.httpServer.stderr.on("data", (d) => {
        h.stderr += d.toString();
        const m = /serving MCP over HTTP at http:\/\/127\.0\.0\.1:(\d+)\/mcp/.exec(h.stderr);
        if (m) resolve(Number(m[1]));
      });
      h.httpServer.on("exit", (code) => reject(new Error(`the server exited (${code})`)));
    });
    h.url = `http://127.0.0.1:${port}/mcp`;
    transport = new lib.Http(new URL(h.url));
  }
  // The v2 client pins modern revisions; for 2025-11-25 it negotiates.
  const negotiation = pin === MODERN ? { mode: { pin } } : { mode: "legacy" };
  const clientOptions = sdk === "v2" ? { versionNegotiation: negotiation } : {};
  h.client = new lib.Client({ name: clientName, version: "1.0.0" }, clientOptions);
  // The 1.x SDK keeps the negotiated version only by handing it to the
  // transport: record it there.
  const setVersion = transport.setProtocolVersion?.bind(transport);
  transport.setProtocolVersion = (v) => {
    h.negotiated = v;
    setVersion?.(v);
  };
  await h.client.connect(transport);
  if (sdk === "v2") h.negotiated = h.client.getNegotiatedProtocolVersion();
  h.finish = async (ok) => {
    await h.client.close().catch(() => {});
    if (h.httpServer && h.httpServer.exitCode === null) {
      h.httpServer.kill("SIGTERM");
      await new Promise((res) => h.httpServer.once("exit", res));
    }
    if (ok) rmSync(base, { recursive: true, force: true });
  };
  return h;
}

// Runs main(h) on a connected client and exits with its verdict.
export async function runTest(name, opts, main) {
  let h;
  let ok = false;
  try {
    h = await connect(opts);
    await main(h);
    ok = true;
  } catch (e) {
    console.error(`FAIL: ${e.stack || e}`);
    if (h) console.error(`--- server stderr ---\n${h.stderr.slice(-4000)}`);
  } finally {
    if (h) await h.finish(ok);
  }
  const label = `${name} ${opts.sdk} ${opts.transportKind}`;
  console.log(ok ? `PASS ${label}` : `FAIL ${label}${h ? ` (kept ${h.base})` : ""}`);
  process.exit(ok ? 0 : 1);
}
