// The load driver: keep-alive HTTP/1.1 connections (undici Pool), either closed-loop (a fixed
// number of requests in flight for a fixed time or count) or open-loop (a fixed arrival rate).
// Each response is timed from just before the request is handed to the pool until its body is read.
import { Pool } from "undici";
import { latencySummary } from "./stats.mjs";

function recorder() {
  const latencies = [];
  const statuses = {};
  let errors = 0;
  let firstError = null;
  return {
    latencies,
    statuses,
    ok(status, latency) {
      statuses[status] = (statuses[status] ?? 0) + 1;
      latencies.push(latency);
    },
    fail(error) {
      errors++;
      firstError ??= String(error?.code ?? error?.message ?? error);
    },
    result(elapsedMs, cpuBefore) {
      const cpu = process.cpuUsage(cpuBefore);
      const done = latencies.length;
      return {
        requests: done,
        elapsedMs: Math.round(elapsedMs),
        throughput: Math.round((done / (elapsedMs / 1000)) * 10) / 10,
        latencyMs: latencySummary(latencies),
        statuses,
        errors,
        ...(firstError ? { firstError } : {}),
        // The driver's own CPU, as a share of one core: near 1.0 means the driver, not the Worker, is the limit.
        driverCpuShare: Math.round(((cpu.user + cpu.system) / 1000 / elapsedMs) * 100) / 100,
      };
    },
  };
}

async function send(pool, path, request) {
  const started = performance.now();
  const res = await pool.request({
    path: request.path ?? path,
    method: request.method ?? "POST",
    headers: request.headers,
    body: request.body,
  });
  const text = await res.body.text();
  return { status: res.statusCode, text, started, ended: performance.now() };
}

/**
 * Closed loop: `concurrency` requests in flight until `durationMs` passes or `count` requests are
 * made. `next()` gives { headers, body, method?, path? } or null (nothing left); `onResponse` sees
 * each answer.
 */
export async function closedLoop({ origin, path, concurrency, durationMs = Infinity, count = Infinity, next, onResponse }) {
  const pool = new Pool(origin, { connections: concurrency, pipelining: 1, keepAliveTimeout: 60_000 });
  const rec = recorder();
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const deadline = started + durationMs;
  let issued = 0;
  const loop = async () => {
    while (issued < count && performance.now() < deadline) {
      const request = next();
      if (!request) return;
      issued++;
      try {
        const answer = await send(pool, path, request);
        rec.ok(answer.status, answer.ended - answer.started);
        onResponse?.(request, answer);
      } catch (error) {
        rec.fail(error);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  const result = rec.result(performance.now() - started, cpuBefore);
  await pool.close();
  return result;
}

/** Open loop: requests start at `rate` per second for `durationMs`, at most `maxInFlight` at once. */
export async function openLoop({ origin, path, rate, durationMs, maxInFlight = 256, next, onResponse }) {
  const pool = new Pool(origin, { connections: Math.min(maxInFlight, 64), pipelining: 1, keepAliveTimeout: 60_000 });
  const rec = recorder();
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const pending = new Set();
  let issued = 0;
  let skipped = 0;
  while (performance.now() - started < durationMs) {
    const due = Math.floor(((performance.now() - started) / 1000) * rate);
    while (issued < due) {
      issued++;
      if (pending.size >= maxInFlight) {
        skipped++;
        continue;
      }
      const request = next();
      if (!request) break;
      const p = send(pool, path, request)
        .then((answer) => {
          rec.ok(answer.status, answer.ended - answer.started);
          onResponse?.(request, answer);
        })
        .catch((error) => rec.fail(error))
        .finally(() => pending.delete(p));
      pending.add(p);
    }
    await new Promise((r) => setTimeout(r, 2));
  }
  await Promise.all(pending);
  const result = rec.result(performance.now() - started, cpuBefore);
  await pool.close();
  return { ...result, offeredRate: rate, skippedOverInFlightCap: skipped };
}
