// One measured cell: a closed-loop run against a Worker plus the CPU its workerd process spent on
// it, while the load ran and counted until workerd is idle again, so work deferred past the answer (an order's outbox)
// is charged to the requests that caused it; with `settleMs`, also until the objects it touched
// have been evicted (their WAL checkpointed), so that work is not charged to the next cell.
import { closedLoop } from "./load.mjs";
import { cpuMs, ioWrites, loadAverages, waitForIdle } from "./proc.mjs";

const round3 = (v) => Math.round(v * 1000) / 1000;

export async function measuredCell(
  target,
  { concurrency, seconds, next, onResponse, settleMs = 0, idleMaxMs = 20_000, idleForMs = 2_500 },
) {
  const pid = target.pids[0];
  const load = loadAverages();
  const cpuBefore = cpuMs(pid);
  const ioBefore = ioWrites(pid);
  const result = await closedLoop({
    origin: target.url,
    path: target.hookPath,
    concurrency,
    durationMs: seconds * 1000,
    next,
    onResponse,
  });
  const ended = Date.now();
  // While the load ran: the answers themselves, plus whatever ran beside them (the inbox holds its
  // hand-off through a burst), so the cost of an acknowledgement apart from the work it leaves behind.
  const cpuDuringLoadMs = cpuMs(pid) - cpuBefore;
  let idle = await waitForIdle(pid, { maxMs: idleMaxMs, idleForMs });
  if (settleMs > 0) {
    // workerd evicts a Durable Object after about 10 s without requests and then checkpoints its
    // SQLite WAL into the database file: that is work this cell's requests left behind too.
    await new Promise((r) => setTimeout(r, Math.max(0, ended + settleMs - Date.now())));
    idle = { ...(await waitForIdle(pid, { maxMs: 20_000, idleForMs })), settledAfterMs: Date.now() - ended };
  }
  const workerdCpuMs = cpuMs(pid) - cpuBefore;
  const io = ioWrites(pid);
  const per = (v) => (result.requests > 0 ? round3(v / result.requests) : null);
  return {
    ...result,
    workerdCpuMsPerRequest: per(workerdCpuMs),
    workerdCpuMsPerRequestDuringLoad: per(cpuDuringLoadMs),
    // Storage writes (SQLite files of Durable Objects, D1, R2) caused per request.
    workerdWriteKiBPerRequest: per((io.bytes - ioBefore.bytes) / 1024),
    workerdWriteSyscallsPerRequest: per(io.syscalls - ioBefore.syscalls),
    loadAverage: load,
    idle,
  };
}
