// CPU profiles of workerd's isolates through the inspector Miniflare opens (`inspectorPort`).
// A sample of the Worker's isolate is charged to the nearest frame on its stack that is
// Orderly's own code (a src/ module, found from the `// src/…` markers esbuild leaves in the
// bundle), so library and native time (zod, drizzle, SQLite, crypto) counts for the module that
// called it. Samples are counted, not weighed by their time deltas: workerd's isolates only
// yield samples while they run JavaScript, and the gap before a sample (time spent in other
// isolates, in native code or descheduled) would otherwise be charged to whatever ran next.
import { readFileSync } from "node:fs";

function session(url) {
  const ws = new WebSocket(url);
  const waiting = new Map();
  let id = 0;
  ws.addEventListener("message", (event) => {
    const message = JSON.parse(event.data);
    if (message.id === undefined) return;
    waiting.get(message.id)?.(message);
    waiting.delete(message.id);
  });
  const opened = new Promise((resolve, reject) => {
    ws.addEventListener("open", resolve, { once: true });
    ws.addEventListener("error", reject, { once: true });
  });
  return {
    opened,
    send(method, params = {}) {
      return new Promise((resolve, reject) => {
        const n = ++id;
        waiting.set(n, (m) => (m.error ? reject(new Error(`${method}: ${m.error.message}`)) : resolve(m.result)));
        ws.send(JSON.stringify({ id: n, method, params }));
      });
    },
    close: () => ws.close(),
  };
}

/** Starts profiling the isolates whose inspector ids match `include`; `stop()` returns { id: profile }. */
export async function startProfiling(mf, include, intervalUs = 1000) {
  const base = await mf.getInspectorURL();
  const targets = (await (await fetch(`http://127.0.0.1:${base.port}/json/list`)).json()).filter((t) => include.test(t.id));
  const sessions = [];
  for (const target of targets) {
    const s = session(target.webSocketDebuggerUrl);
    await s.opened;
    await s.send("Profiler.enable");
    await s.send("Profiler.setSamplingInterval", { interval: intervalUs });
    await s.send("Profiler.start");
    sessions.push({ id: target.id, s });
  }
  return {
    async stop() {
      const profiles = {};
      for (const { id, s } of sessions) {
        profiles[id] = (await s.send("Profiler.stop")).profile;
        s.close();
      }
      return profiles;
    },
  };
}

/** Line → source module of an esbuild bundle, from its `// src/…` and `// node_modules/…` markers. */
export function bundleModules(bundlePath) {
  const starts = [];
  readFileSync(bundlePath, "utf8")
    .split("\n")
    .forEach((line, i) => {
      const m = /^\/\/ ((?:src|node_modules)\/\S+)$/.exec(line);
      if (m) starts.push([i + 1, m[1]]);
    });
  return (line) => {
    let lo = 0;
    let hi = starts.length - 1;
    let found = null;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid][0] <= line) {
        found = starts[mid][1];
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  };
}

const IDLE = "(idle)";

/** Non-idle samples of a profile. */
function busySamples(profile) {
  const idle = new Set(profile.nodes.filter((n) => n.callFrame.functionName === IDLE).map((n) => n.id));
  return profile.samples.filter((id) => !idle.has(id)).length;
}

/** Non-idle samples per isolate, and the Worker isolate's by the Orderly source module (and function) that owns them. */
export function summariseProfiles(profiles, { worker, moduleOf }) {
  const isolates = Object.fromEntries(
    Object.entries(profiles)
      .map(([id, p]) => [id, busySamples(p)])
      .filter(([, n]) => n > 0)
      .sort((a, b) => b[1] - a[1]),
  );
  const profile = profiles[worker];
  if (!profile) return { isolateSamples: isolates, worker: null };
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const owner = new Map();
  const ownerOf = (id) => {
    if (owner.has(id)) return owner.get(id);
    const frame = nodes.get(id).callFrame;
    const module = frame.url ? moduleOf(frame.lineNumber + 1) : null;
    let result;
    if (module?.startsWith("src/")) result = { module, fn: `${module} ${frame.functionName || "(anonymous)"}` };
    else if (parent.has(id)) result = ownerOf(parent.get(id));
    else result = { module: "(outside Orderly's code: runtime, GC, event loop)", fn: frame.functionName || "(root)" };
    owner.set(id, result);
    return result;
  };
  const byModule = new Map();
  const byFunction = new Map();
  let busy = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const node = nodes.get(profile.samples[i]);
    if (node.callFrame.functionName === IDLE) continue;
    const dt = 1;
    busy += dt;
    const { module, fn } = ownerOf(node.id);
    byModule.set(module, (byModule.get(module) ?? 0) + dt);
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + dt);
  }
  const ranked = (map, n) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, samples]) => ({ name, samples, share: Math.round((samples / busy) * 1000) / 1000 }));
  return {
    isolateSamples: isolates,
    worker: { samples: busy, byModule: ranked(byModule, 15), byFunction: ranked(byFunction, 20) },
  };
}
