// python-mcp driven by the official TypeScript SDK clients, in four ways:
// the 1.x SDK (@modelcontextprotocol/sdk, protocol 2025-11-25) and the v2
// client (@modelcontextprotocol/client, pinned to 2026-07-28), each over
// stdio (StdioClientTransport) and over Streamable HTTP
// (StreamableHTTPClientTransport against python-mcp --transport http).
// The SDKs check every structuredContent against the tool's outputSchema
// (after listTools), so the inline result, the "running" stub of the
// smart-async switch, the job tools' answers and the isError results must
// all conform, or callTool throws.
//
// Usage: node sdk_client.mjs SERVER v1|v2 stdio|http
import { setTimeout as sleep } from "node:timers/promises";
import { check, MODERN, parseArgs, runTest } from "./sdk_harness.mjs";

const args = parseArgs("sdk_client.mjs");
const wantVersion = args.sdk === "v2" ? MODERN : "2025-11-25";

async function main(h) {
  const { client, ws, outside } = h;
  const info = client.getServerVersion();
  check(info && info.name === "python-mcp", "connect: serverInfo", info);
  check(h.negotiated === wantVersion, `protocol ${wantVersion}`, h.negotiated);
  check(client.getServerCapabilities()?.tools !== undefined, "tools capability");

  const { tools } = await client.listTools();
  check(tools.length === 14, "listTools: 14 tools", tools.map((t) => t.name));
  for (const t of tools) {
    check(t.inputSchema?.type === "object" && t.outputSchema?.type === "object" && t.description,
      `${t.name}: description, inputSchema and outputSchema`);
  }

  // Inline: the tool's own result.
  let r = await client.callTool({
    name: "py_run_script_in_dir",
    arguments: { directory: ws, script_content: "import sys\nprint('hello sdk', sys.argv[1:])", args: ["x"] },
  });
  check(!r.isError && r.structuredContent?.stdout === "hello sdk ['x']\n", "inline run", r);
  check(r.structuredContent.exit_code === 0, "exit_code 0", r.structuredContent);

  // Smart async: over the 1 s budget, the call answers a running stub.
  r = await client.callTool({
    name: "py_run_script_in_dir",
    arguments: {
      directory: ws,
      job_label: "sdk-background",
      script_content: "import time\nprint('one', flush=True)\ntime.sleep(3)\nprint('two')",
    },
  });
  const stub = r.structuredContent;
  check(!r.isError && stub?.status === "running" && typeof stub.job_id === "string",
    "background stub {job_id, status: running}", stub);
  check(/time budget/.test(stub.message), "stub message mentions the time budget", stub);

  let job;
  let seen = "";
  for (let i = 0; i < 1200; i++) {
    const s = await client.callTool({ name: "py_job_status", arguments: { job_id: stub.job_id, incremental: true } });
    check(!s.isError, `py_job_status #${i}`, s);
    job = s.structuredContent.job;
    seen += job.new_stdout;
    if (["completed", "failed", "cancelled"].includes(job.status)) break;
    await sleep(100);
  }
  check(job.status === "completed", "job completed", job);
  check(job.result.exit_code === 0 && job.result.stdout === "one\ntwo\n", "job result", job.result);
  check(seen === "one\ntwo\n", "incremental reads add up to the output", seen);

  // async_mode: a pending stub.
  r = await client.callTool({
    name: "py_run_script_in_dir",
    arguments: { directory: ws, script_content: "print(1)", async_mode: true },
  });
  check(r.structuredContent?.status === "pending", "async_mode stub", r.structuredContent);

  // Error results are results (isError), and they conform to the schemas.
  r = await client.callTool({
    name: "py_run_script_in_dir",
    arguments: { directory: outside, script_content: "print(1)" },
  });
  check(r.isError === true && /outside the workspace roots/.test(r.content[0].text),
    "directory outside the roots: isError", r);
  r = await client.callTool({ name: "py_run_script_in_dir", arguments: { directory: ws } });
  check(r.isError === true, "neither script_path nor script_content: isError", r);
  r = await client.callTool({ name: "py_job_status", arguments: { job_id: "00000000-0000-4000-8000-000000000000" } });
  check(r.isError === true && /not found/.test(r.content[0].text), "unknown job: isError", r);
  r = await client.callTool({ name: "py_cancel_job", arguments: { job_id: stub.job_id } });
  check(r.isError === true && /is not running \(status: completed\)/.test(r.content[0].text),
    "cancel a completed job: isError", r);

  // The other tools, for their schemas.
  r = await client.callTool({ name: "py_list_jobs", arguments: { limit: 5 } });
  check(!r.isError && r.structuredContent.jobs.length >= 2, "py_list_jobs", r.structuredContent);
  r = await client.callTool({ name: "py_save_script", arguments: { script_name: "s", source: '"""Doc."""\nprint(2)\n', requires_python: ">=3.9" } });
  check(!r.isError && r.structuredContent.written === "true", "py_save_script", r.structuredContent);
  r = await client.callTool({ name: "py_save_script", arguments: { script_name: "s", source: "print(3)\n" } });
  check(!r.isError && r.structuredContent.written === "false", "py_save_script exists", r.structuredContent);
  r = await client.callTool({ name: "py_list_scripts", arguments: {} });
  check(!r.isError && r.structuredContent.result[0].docstring === "Doc.", "py_list_scripts", r.structuredContent);
  r = await client.callTool({ name: "py_run_saved_script", arguments: { script_name: "s" } });
  check(!r.isError && r.structuredContent.stdout === "2\n", "py_run_saved_script", r.structuredContent);
  r = await client.callTool({ name: "py_run_saved_script", arguments: { script_name: "missing" } });
  check(r.isError === true, "py_run_saved_script missing: isError", r);
  r = await client.callTool({ name: "py_run_script_with_dependencies", arguments: { script_content: "print(4)" } });
  check(!r.isError && Array.isArray(r.structuredContent.resolved_dependencies), "py_run_script_with_dependencies", r.structuredContent);
  // A package no index has (this server's pip sees none): the error names
  // it, inline or, past the time budget, in the job's record.
  r = await client.callTool({ name: "py_run_script_with_dependencies", arguments: { script_content: "print(4)", dependencies: ["no-such-dist-qq"] } });
  if (!r.isError && r.structuredContent.status === "running") {
    let job;
    for (let i = 0; i < 600; i++) {
      const s = await client.callTool({ name: "py_job_status", arguments: { job_id: r.structuredContent.job_id } });
      job = s.structuredContent.job;
      if (["completed", "failed", "cancelled"].includes(job.status)) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    check(job.status === "failed" && job.error.includes("no-such-dist-qq"), "dependencies: the failed job names the package", job);
  } else {
    check(r.isError === true && r.content[0].text.includes("no-such-dist-qq"), "dependencies: isError naming the package", r);
  }
  r = await client.callTool({ name: "py_benchmark_script", arguments: { script_content: "print(5)" } });
  check(!r.isError && r.structuredContent.wall_time_seconds > 0, "py_benchmark_script", r.structuredContent);
  r = await client.callTool({ name: "py_prune_jobs", arguments: {} });
  check(!r.isError && typeof r.structuredContent.remaining === "number", "py_prune_jobs", r.structuredContent);

  const templates = await client.listResourceTemplates();
  check(templates.resourceTemplates.some((t) => t.uriTemplate === "job-stream://{job_id}"), "job-stream template");
  const res = await client.readResource({ uri: `job-stream://${stub.job_id}` });
  check(res.contents[0].text.startsWith("---STDOUT---\none\ntwo\n"), "job-stream resource", res.contents[0]);
  let threw = false;
  try {
    await client.readResource({ uri: "job-stream://00000000-0000-4000-8000-000000000000" });
  } catch (e) {
    threw = true;
  }
  check(threw, "unknown job-stream: an error");

  // Artifacts: plt.show() comes back as an image block the SDK's result
  // schema accepts, the CSV a script wrote through readResource.
  r = await client.callTool({
    name: "py_run_script_in_dir",
    arguments: {
      directory: ws,
      script_content: "import matplotlib.pyplot as plt\nplt.figure(figsize=(3, 2), dpi=100)\n" +
        "plt.plot([1, 2], [3, 4])\nplt.show()\nopen('t.csv', 'w').write('a,b\\n1,2\\n')",
    },
  });
  check(!r.isError, "a chart and a CSV", r);
  // Past the 1 s budget (matplotlib's import on a slow machine), the
  // finished job's py_job_status carries the same blocks.
  for (let i = 0; r.structuredContent.status === "running" && i < 1200; i++) {
    await sleep(100);
    const s = await client.callTool({ name: "py_job_status", arguments: { job_id: r.structuredContent.job_id } });
    if (s.structuredContent.job.status !== "running" && s.structuredContent.job.status !== "pending") r = s;
  }
  const image = r.content.find((b) => b.type === "image");
  check(image?.mimeType === "image/png", "an image block", r.content.map((b) => b.type));
  const png = Buffer.from(image.data, "base64");
  check(png.subarray(1, 4).toString() === "PNG" && png.readUInt32BE(16) === 300 &&
    png.readUInt32BE(20) === 200, "a 300x200 PNG", png.subarray(0, 24));
  const csv = r.content.find((b) => b.type === "resource_link" && b.name === "t.csv");
  check(csv?.uri?.startsWith("job-file://"), "a resource link to the CSV", r.content);
  const file = await client.readResource({ uri: csv.uri });
  check(file.contents[0].text === "a,b\n1,2\n" && file.contents[0].mimeType === "text/csv",
    "the CSV through readResource", file.contents[0]);

  // A session keeps its variables between runs.
  const started = await client.callTool({ name: "py_session_start", arguments: { directory: ws } });
  const sid = started.structuredContent?.session_id;
  check(!started.isError && typeof sid === "string", "py_session_start", started);
  await client.callTool({ name: "py_session_run", arguments: { session_id: sid, code: "x = 20" } });
  r = await client.callTool({ name: "py_session_run", arguments: { session_id: sid, code: "x * 2 + 2" } });
  check(!r.isError && r.structuredContent.value === "42", "py_session_run keeps x", r.structuredContent);
  r = await client.callTool({ name: "py_session_close", arguments: { session_id: sid } });
  check(!r.isError && r.structuredContent.status === "closed", "py_session_close", r.structuredContent);
}

await runTest("typescript_sdk", {
  ...args,
  clientName: "python-mcp-e2e-sdk",
  env: { SMART_ASYNC_TIMEOUT_SECONDS: "1" },
}, main);
