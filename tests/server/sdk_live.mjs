// Live jobs through the official TypeScript SDK clients: progress
// (onprogress, resetTimeoutOnProgress), the script's own progress
// (PYMCP_PROGRESS_FD), cancellation (AbortSignal), logging, resource
// subscriptions, and tasks (the 1.x SDK's client.experimental.tasks, and
// @modelcontextprotocol/ext-tasks's generation-agnostic requester).  The
// 1.x SDK speaks 2025-11-25, the v2 client 2026-07-28; each over stdio and
// over Streamable HTTP.  Every cancelled job must leave no process: the
// scripts start a child whose command line carries a marker, and the test
// looks for it in /proc.
//
// Usage: node sdk_live.mjs SERVER v1|v2 stdio|http
import { readdirSync, readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { check, connect, MODERN, parseArgs, runTest } from "./sdk_harness.mjs";

const args = parseArgs("sdk_live.mjs");

// Processes whose command line holds the marker.
function processesWith(marker) {
  const found = [];
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, "latin1").includes(marker)) found.push(pid);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

async function waitFor(what, cond, seconds = 30) {
  for (let i = 0; i < seconds * 10; i++) {
    if (await cond()) return;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

// A script that starts a marked child and then sleeps: cancelling it must
// take both.
function markedScript(marker) {
  return [
    "import subprocess, sys, time",
    `subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)", "${marker}"])`,
    "print('ready', flush=True)",
    "time.sleep(600)",
  ].join("\n");
}

async function cancelledCleanly(h, marker, label) {
  await waitFor(`no process of ${label} left`, () => processesWith(marker).length === 0, 15);
  check(true, `${label}: no process of the job is left`);
}

async function jobByLabel(client, label) {
  const r = await client.callTool({ name: "py_list_jobs", arguments: { limit: 50 } });
  return r.structuredContent.jobs.find((j) => j.label === label);
}

async function progressOfOutput(h) {
  // The bar: a 3 s job printing every 0.25 s yields at least four
  // progress notifications carrying its output.  resetTimeoutOnProgress
  // with a 2 s timeout only holds because they arrive.
  const seen = [];
  const r = await h.client.callTool(
    {
      name: "py_run_script_in_dir",
      arguments: {
        directory: h.ws,
        script_content: "import time\nfor i in range(12):\n    print('tick', i, flush=True)\n    time.sleep(0.25)",
      },
    },
    ...callOptions(h, {
      onprogress: (p) => seen.push(p),
      timeout: 2000,
      resetTimeoutOnProgress: true,
    }),
  );
  check(!r.isError && r.structuredContent.stdout.split("\n").length === 13, "3 s job ran inline", r.structuredContent);
  const withOutput = seen.filter((p) => /tick \d+/.test(p.message ?? ""));
  check(withOutput.length >= 4, `>= 4 progress notifications with output (${withOutput.length})`, seen);
  check(seen.every((p, i) => i === 0 || p.progress > seen[i - 1].progress), "progress strictly increases", seen);
}

async function scriptProgress(h) {
  const seen = [];
  const r = await h.client.callTool(
    {
      name: "py_run_script_in_dir",
      arguments: {
        directory: h.ws,
        script_content: [
          "import os, time",
          "fd = int(os.environ['PYMCP_PROGRESS_FD'])",
          "for i in range(1, 6):",
          "    os.write(fd, f'progress {i}/5 step {i}\\n'.encode())",
          "    time.sleep(0.3)",
        ].join("\n"),
        job_label: "script-progress",
      },
    },
    ...callOptions(h, { onprogress: (p) => seen.push(p) }),
  );
  check(!r.isError && r.structuredContent.exit_code === 0, "script reporting progress ran", r);
  const steps = seen.filter((p) => /^step \d$/.test(p.message ?? ""));
  check(steps.length >= 3 && steps.every((p) => typeof p.total === "number" && p.total >= p.progress),
    "the script's own progress arrives with total and message", seen);
  check(steps.at(-1).message === "step 5", "the last report arrives", steps.at(-1));
  const job = await jobByLabel(h.client, "script-progress");
  if (job) {
    const s = await h.client.callTool({ name: "py_job_status", arguments: { job_id: job.id } });
    const p = s.structuredContent.job.progress;
    check(p && p.current === 5 && p.total === 5 && p.message === "step 5", "py_job_status shows the progress", p);
  }
}

async function abortCancels(h) {
  const marker = `pymcp-abort-${process.pid}-${args.sdk}-${args.transportKind}`;
  const ac = new AbortController();
  const call = h.client.callTool(
    {
      name: "py_run_script_in_dir",
      arguments: { directory: h.ws, script_content: markedScript(marker), job_label: marker },
    },
    ...callOptions(h, { signal: ac.signal, timeout: 120000 }),
  );
  let rejected = false;
  const settled = call.then(
    () => {},
    () => {
      rejected = true;
    },
  );
  await waitFor("the marked child", () => processesWith(marker).length > 0);
  ac.abort("test cancels");
  await settled;
  check(rejected, "AbortSignal: the call rejects");
  await cancelledCleanly(h, marker, "AbortSignal");
  // The process is gone before the server has read the launcher's end.
  await waitFor("the job to be cancelled", async () => (await jobByLabel(h.client, marker))?.status === "cancelled", 10);
  check(true, "the job is cancelled");
}

async function logging(h) {
  const messages = [];
  onNotification(h, "notifications/message", "LoggingMessageNotificationSchema", (n) => {
    messages.push(n.params);
  });
  await h.client.setLoggingLevel("info");
  await h.client.callTool({ name: "py_run_script_in_dir", arguments: { directory: h.ws, script_content: "print(1)" } });
  await waitFor("log notifications", () => messages.some((m) => / completed/.test(String(m.data))), 10);
  check(messages.some((m) => / started/.test(String(m.data)) && m.level === "info"), "log: job started", messages);
  await h.client.setLoggingLevel("error");
  messages.length = 0;
  await h.client.callTool({ name: "py_run_script_in_dir", arguments: { directory: h.ws, script_content: "print(2)" } });
  await sleep(300);
  check(messages.length === 0, "log: nothing below the level", messages);
}

async function subscription(h) {
  const updates = [];
  onNotification(h, "notifications/resources/updated", "ResourceUpdatedNotificationSchema", (n) => {
    updates.push(n.params.uri);
  });
  const r = await h.client.callTool({
    name: "py_run_script_in_dir",
    arguments: {
      directory: h.ws,
      async_mode: true,
      script_content: "import time\ntime.sleep(0.5)\nfor i in range(6):\n    print(i, flush=True)\n    time.sleep(0.2)",
    },
  });
  const uri = `job-stream://${r.structuredContent.job_id}`;
  let sub;
  if (args.sdk === "v1") await h.client.subscribeResource({ uri });
  else sub = await h.client.listen({ resourceSubscriptions: [uri] });
  const done = async () => {
    const s = await h.client.callTool({ name: "py_job_status", arguments: { job_id: r.structuredContent.job_id } });
    return s.structuredContent.job.status === "completed";
  };
  await waitFor("the subscribed job", done);
  await waitFor("an update after the end", () => updates.length >= 2, 5);
  check(updates.every((u) => u === uri), `resources/updated for ${uri} (${updates.length})`, updates);
  const c = await h.client.complete({
    ref: { type: "ref/resource", uri: "job-stream://{job_id}" },
    argument: { name: "job_id", value: r.structuredContent.job_id.slice(0, 4) },
  });
  check(c.completion.values.includes(r.structuredContent.job_id), "completion/complete offers the job id", c);
  if (sub) await sub.close();
  else await h.client.unsubscribeResource({ uri });
}

async function experimentalTasks(h) {
  // The 1.x SDK's own tasks client (2025-11-25 core tasks).
  const tasks = h.client.experimental.tasks;
  const stream = tasks.callToolStream(
    { name: "py_run_script_in_dir", arguments: { directory: h.ws, script_content: "import time\ntime.sleep(1)\nprint('from a task')" } },
    undefined,
    { task: { ttl: 60000 } },
  );
  let created;
  let result;
  for await (const m of stream) {
    if (m.type === "taskCreated") created = m.task;
    if (m.type === "result") result = m.result;
    if (m.type === "error") throw m.error;
  }
  check(created && typeof created.taskId === "string", "taskCreated", created);
  check(result && result.structuredContent.stdout === "from a task\n", "task result", result);
  const got = await tasks.getTask(created.taskId);
  check(got.status === "completed", "tasks/get: completed", got);
  const listed = await tasks.listTasks();
  check(listed.tasks.some((t) => t.taskId === created.taskId), "tasks/list has it", listed);

  const marker = `pymcp-task-${process.pid}-${args.transportKind}`;
  const s2 = tasks.callToolStream(
    { name: "py_run_script_in_dir", arguments: { directory: h.ws, script_content: markedScript(marker) } },
    undefined,
    { task: { ttl: 60000 } },
  );
  const first = await s2.next();
  check(first.value?.type === "taskCreated", "second task created", first.value);
  await waitFor("the task's marked child", () => processesWith(marker).length > 0);
  const c = await tasks.cancelTask(first.value.task.taskId);
  check(c.status === "cancelled", "tasks/cancel", c);
  await s2.return();
  await cancelledCleanly(h, marker, "tasks/cancel");
}

function mcpName(body) {
  const p = body.params ?? {};
  if (body.method.startsWith("tasks/")) return p.taskId;
  return p.name ?? p.uri;
}

// A raw request path for ext-tasks against a 2026-07-28 server over HTTP:
// one POST per request, as the stateless revision allows.
function rawDispatchFor(h) {
  let id = 1_000_000;
  return async (request) => {
    const body = { jsonrpc: "2.0", ...request, id: request.id ?? id++ };
    const res = await fetch(h.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        "mcp-protocol-version": MODERN,
        "mcp-method": body.method,
        // The routing name: a tool's, a resource's, a task's.
        ...(mcpName(body) ? { "mcp-name": mcpName(body) } : {}),
      },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    if (process.env.PYMCP_DEBUG_RAW) console.log(`raw ${JSON.stringify(body)}\n -> ${text}`);
    if ((res.headers.get("content-type") ?? "").startsWith("text/event-stream")) {
      const msgs = text
        .split("\n")
        .filter((l) => l.startsWith("data:"))
        .map((l) => JSON.parse(l.slice(5)));
      return msgs.find((m) => m.id === body.id);
    }
    return JSON.parse(text);
  };
}

// ext-tasks adapts the v2 Client: pinned to 2026-07-28 it needs a raw
// request path (we give it one over HTTP), pinned to 2025-11-25 it speaks
// the core tasks of that revision.
async function extTasks(h) {
  const { createTaskSessionFromClient, resultFromTaskOutcome } = await import("@modelcontextprotocol/ext-tasks/client");
  const modern = h.negotiated === MODERN;
  const opts = { endpointId: `python-mcp-${args.transportKind}-${h.negotiated}` };
  if (modern) {
    opts.rawDispatch = rawDispatchFor(h);
    opts.v2RequestFraming = {
      protocolVersion: MODERN,
      clientInfo: { name: "python-mcp-e2e-live", version: "1.0.0" },
      clientCapabilities: { extensions: { "io.modelcontextprotocol/tasks": {} } },
    };
  }
  const session = createTaskSessionFromClient(h.client, opts);
  try {
    // Past the server's budget (4 s) the call becomes a task; the session
    // drives it to its end.
    const ex = await session.callTool(
      "py_run_script_in_dir",
      { directory: h.ws, script_content: "import time\ntime.sleep(5)\nprint('ext-tasks')" },
      { task: { preference: "prefer" } },
    );
    check(ex.kind === "task", `ext-tasks ${h.negotiated}: the long call is a task`, ex.kind);
    const { outcome } = await ex.settle();
    const result = resultFromTaskOutcome(outcome);
    check(result.structuredContent?.stdout === "ext-tasks\n", "ext-tasks: settled result", result);

    const marker = `pymcp-ext-${process.pid}-${h.negotiated}-${args.transportKind}`;
    const ex2 = await session.callTool(
      "py_run_script_in_dir",
      { directory: h.ws, script_content: markedScript(marker) },
      { task: { preference: "prefer" } },
    );
    check(ex2.kind === "task", "ext-tasks: second task", ex2.kind);
    await waitFor("the ext-tasks marked child", () => processesWith(marker).length > 0);
    await ex2.cancel();
    await cancelledCleanly(h, marker, "ext-tasks cancel");
  } finally {
    await session.close();
  }
}

// The 1.x SDK registers handlers by schema, the v2 client by method.
function onNotification(h, method, schema, handler) {
  if (h.sdk === "v1") h.client.setNotificationHandler(h.lib.types[schema], handler);
  else h.client.setNotificationHandler(method, handler);
}

// The 1.x SDK takes (params, resultSchema, options), the v2 client
// (params, options).
function callOptions(h, options) {
  return h.sdk === "v1" ? [undefined, options] : [options];
}

async function main(h) {
  const want = args.sdk === "v2" ? MODERN : "2025-11-25";
  check(h.negotiated === want, `protocol ${want}`, h.negotiated);
  await h.client.listTools();
  await progressOfOutput(h);
  await scriptProgress(h);
  await abortCancels(h);
  if (args.sdk === "v1") await logging(h);
  await subscription(h);
  if (args.sdk === "v1") {
    await experimentalTasks(h);
    return;
  }
  // ext-tasks speaks 2026-07-28 through a raw path we give it over HTTP
  // only; pinned to 2025-11-25 (a second server, state of its own) it
  // needs none.
  if (args.transportKind === "http") await extTasks(h);
  const legacy = await connect({ ...liveOptions, pin: "2025-11-25" });
  let ok = false;
  try {
    check(legacy.negotiated === "2025-11-25", "second client pinned to 2025-11-25", legacy.negotiated);
    await extTasks(legacy);
    ok = true;
  } finally {
    if (!ok) console.error(`--- second server stderr ---\n${legacy.stderr.slice(-4000)}`);
    await legacy.finish(ok);
  }
}

// A 4 s budget: the 3 s progress job answers inline, the 5 s task job
// does not.
const liveOptions = { ...args, clientName: "python-mcp-e2e-live", env: { SMART_ASYNC_TIMEOUT_SECONDS: "4" } };
await runTest("typescript_sdk_live", liveOptions, main);
