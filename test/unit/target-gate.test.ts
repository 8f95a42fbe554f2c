import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { StepError, StepMessage, StepOutcome } from "../../src/durable/order-types";
import type { AcquireRequest } from "../../src/durable/target-gate";
import { runtimeConfig } from "../../src/worker/config";
import { acquireGate, expectedLeaseEnd, gateFor, releaseGate } from "../../src/worker/queue/target-gate-client";

function gate() {
  return env.GATES.get(env.GATES.idFromName(`con_${crypto.randomUUID()}`));
}

const request = (over: Partial<AcquireRequest> = {}): AcquireRequest => ({
  limits: { ratePerSecond: 2, burst: 4, concurrency: 10 },
  priority: "order",
  failureThreshold: 3,
  cooldownMs: 300,
  ...over,
});

const release = { calls: 1, failureThreshold: 3, cooldownMs: 300 } as const;

describe("a target's gate", () => {
  it("gives a step's calls slots inside a sliding window: `burst` at once, then one window later", async () => {
    const g = gate();
    const limits = { ratePerSecond: 4, burst: 2, concurrency: 10 };
    const t = await g.acquire(request({ limits }));
    if (!t.granted) throw new Error("must be granted");
    const calls: { waitMs: number; slot: number }[] = [];
    for (let i = 0; i < 5; i++) calls.push(await g.call(t.ticket, limits));
    // 2 calls per 500 ms window (with a margin): 0, 0, then ~520 ms, ~520 ms, ~1040 ms after the
    // first. Slots are compared with each other, not with the clock, so a slow machine reads the same.
    expect(calls.slice(0, 2).map((c) => c.waitMs)).toEqual([0, 0]);
    const after = calls.map((c) => c.slot - calls[0]!.slot);
    expect(after[2]).toBeGreaterThan(500);
    expect(after[2]).toBeLessThan(560);
    expect(after[4]! - after[2]!).toBeGreaterThanOrEqual(500);
  });

  it("interleaves the calls of steps running side by side instead of letting each burst", async () => {
    const g = gate();
    const limits = { ratePerSecond: 10, burst: 10, concurrency: 2 };
    const a = await g.acquire(request({ limits }));
    const b = await g.acquire(request({ limits }));
    if (!a.granted || !b.granted) throw new Error("both must be granted");
    const slots: number[] = [];
    for (let i = 0; i < 10; i++) {
      slots.push((await g.call(a.ticket, limits)).slot);
      slots.push((await g.call(b.ticket, limits)).slot);
    }
    slots.sort((x, y) => x - y);
    // No 1-s window holds more than 10 of the 20 calls.
    for (let i = 10; i < slots.length; i++) expect(slots[i]! - slots[i - 10]!).toBeGreaterThanOrEqual(1000);
  });

  it("counts a call that left late from when it left, so the next window keeps its distance", async () => {
    const g = gate();
    const limits = { ratePerSecond: 2, burst: 2, concurrency: 10 };
    const t = await g.acquire(request({ limits }));
    if (!t.granted) throw new Error("must be granted");
    const first = await g.call(t.ticket, limits);
    await g.call(t.ticket, limits);
    // A call left 300 ms after its slot: the window counts it then, so the fourth call waits one
    // window after it (~1340 ms) instead of after the slot (~1040 ms); the third is not held up.
    await g.sentLate(first.slot, 300);
    expect((await g.call(t.ticket, limits)).waitMs).toBeLessThan(1100);
    const fourth = await g.call(t.ticket, limits);
    expect(fourth.slot - first.slot).toBeGreaterThan(1300);
    expect(fourth.slot - first.slot).toBeLessThan(1400);
  });

  it("turns a step away while the calls already scheduled would keep it waiting too long", async () => {
    const g = gate();
    const limits = { ratePerSecond: 1, burst: 1, concurrency: 10 };
    const t = await g.acquire(request({ limits }));
    if (!t.granted) throw new Error("must be granted");
    for (let i = 0; i < 4; i++) await g.call(t.ticket, limits);
    const next = await g.acquire(request({ limits }));
    expect(next).toMatchObject({ granted: false, reason: "rate" });
    if (!next.granted) expect(next.retryAfterMs).toBeGreaterThan(0);
  });

  it("keeps a slot for orders: bulk work waits while orders are turned away", async () => {
    const g = gate();
    const limits = { ratePerSecond: 100, burst: 100, concurrency: 2 };
    expect((await g.acquire(request({ limits, priority: "bulk" }))).granted).toBe(true);
    // The second slot is the orders'.
    expect(await g.acquire(request({ limits, priority: "bulk" }))).toMatchObject({ granted: false, reason: "concurrency" });
    expect((await g.acquire(request({ limits, priority: "order" }))).granted).toBe(true);
    // Both slots taken: an order is turned away, and while it waits no bulk step starts.
    expect(await g.acquire(request({ limits, priority: "order" }))).toMatchObject({ granted: false });
    expect(await g.acquire(request({ limits, priority: "bulk" }))).toMatchObject({ granted: false, reason: "concurrency" });
  });

  it("holds the concurrency limit until a step releases its slot", async () => {
    const g = gate();
    const limits = { ratePerSecond: 100, burst: 100, concurrency: 1 };
    const first = await g.acquire(request({ limits }));
    expect(await g.acquire(request({ limits }))).toMatchObject({ granted: false, reason: "concurrency" });
    if (!first.granted) throw new Error("first acquire must be granted");
    await g.release({ ...release, ticket: first.ticket, outcome: "ok" });
    expect((await g.acquire(request({ limits }))).granted).toBe(true);
  });

  it("makes everyone wait out a 429's Retry-After, new steps and the next call alike", async () => {
    const g = gate();
    const limits = { ratePerSecond: 2, burst: 4, concurrency: 10 };
    const first = await g.acquire(request({ limits }));
    if (!first.granted) throw new Error("first acquire must be granted");
    await g.rateLimited(5);
    expect((await g.call(first.ticket, limits)).waitMs).toBeGreaterThan(4000);
    const next = await g.acquire(request({ limits }));
    expect(next).toMatchObject({ granted: false, reason: "rate-limited-by-target" });
    if (!next.granted) expect(next.retryAfterMs).toBeGreaterThan(4000);
  });

  it("opens after failures in a row, lets one probe through after the cooldown, and closes when it succeeds", async () => {
    const g = gate();
    const limits = { ratePerSecond: 100, burst: 100, concurrency: 10 };
    let opened = false;
    for (let i = 0; i < 3; i++) {
      const t = await g.acquire(request({ limits }));
      if (!t.granted) throw new Error("must be granted while closed");
      opened = (await g.release({ ...release, ticket: t.ticket, outcome: "retryable" })).opened;
    }
    expect(opened).toBe(true);
    expect(await g.status()).toMatchObject({ paused: true, consecutiveFailures: 3 });
    expect(await g.acquire(request({ limits }))).toMatchObject({ granted: false, reason: "paused" });
    await new Promise((r) => setTimeout(r, 350));
    const probe = await g.acquire(request({ limits }));
    expect(probe).toMatchObject({ granted: true, probe: true });
    // While the probe is out nobody else goes.
    expect(await g.acquire(request({ limits }))).toMatchObject({ granted: false, reason: "paused" });
    if (!probe.granted) throw new Error("probe must be granted");
    expect(await g.release({ ...release, ticket: probe.ticket, outcome: "ok" })).toMatchObject({ closed: true });
    expect(await g.status()).toMatchObject({ paused: false, consecutiveFailures: 0 });
  });

  it("stays paused, for longer, when the probe fails", async () => {
    const g = gate();
    const limits = { ratePerSecond: 100, burst: 100, concurrency: 10 };
    for (let i = 0; i < 3; i++) {
      const t = await g.acquire(request({ limits }));
      if (t.granted) await g.release({ ...release, ticket: t.ticket, outcome: "retryable" });
    }
    await new Promise((r) => setTimeout(r, 350));
    const probe = await g.acquire(request({ limits }));
    if (!probe.granted) throw new Error("probe must be granted");
    const result = await g.release({ ...release, ticket: probe.ticket, outcome: "retryable" });
    expect(result.opened).toBe(false);
    expect(result.pausedUntil! - Date.now()).toBeGreaterThan(400);
  });

  it("gives up a probe whose consumer never releases it once its ticket expires, and lets the next one through", async () => {
    const g = gate();
    const limits = { ratePerSecond: 100, burst: 100, concurrency: 10 };
    await runInDurableObject(g, (instance) => {
      (instance as unknown as { ticketTtlMs: number }).ticketTtlMs = 500;
    });
    for (let i = 0; i < 3; i++) {
      const t = await g.acquire(request({ limits }));
      if (t.granted) await g.release({ ...release, ticket: t.ticket, outcome: "retryable" });
    }
    await new Promise((r) => setTimeout(r, 350));
    // The probe's consumer dies before it releases.
    expect(await g.acquire(request({ limits }))).toMatchObject({ granted: true, probe: true });
    expect(await g.acquire(request({ limits }))).toMatchObject({ granted: false, reason: "paused" });
    await new Promise((r) => setTimeout(r, 600));
    const next = await g.acquire(request({ limits }));
    expect(next).toMatchObject({ granted: true, probe: true });
    if (!next.granted) throw new Error("the next probe must be granted");
    expect(await g.release({ ...release, ticket: next.ticket, outcome: "ok" })).toMatchObject({ closed: true });
    expect(await g.status()).toMatchObject({ paused: false });
  });

  it("gives up a ticket never released shortly after its step's lease, not 15 minutes later", async () => {
    const limits = { ratePerSecond: 100, burst: 100, concurrency: 1 };
    const [withLease, withoutLease] = [gate(), gate()];
    for (const g of [withLease, withoutLease])
      await runInDurableObject(g, (instance) => {
        (instance as unknown as { ticketMarginMs: number }).ticketMarginMs = 100;
      });
    // Each consumer dies holding its ticket; one told the gate when its lease ends.
    expect(await withLease.acquire(request({ limits, leaseUntil: Date.now() + 200 }))).toMatchObject({ granted: true });
    expect(await withoutLease.acquire(request({ limits }))).toMatchObject({ granted: true });
    expect(await withLease.acquire(request({ limits }))).toMatchObject({ granted: false, reason: "concurrency" });
    await new Promise((r) => setTimeout(r, 400));
    expect(await withLease.acquire(request({ limits }))).toMatchObject({ granted: true });
    // A consumer of the previous release names no lease: its ticket keeps the old TTL.
    expect(await withoutLease.acquire(request({ limits }))).toMatchObject({ granted: false, reason: "concurrency" });
  });

  it("keeps a ticket until the lease its claim has, which a call names, when the acquire's guess was shorter", async () => {
    const g = gate();
    const limits = { ratePerSecond: 100, burst: 100, concurrency: 1 };
    await runInDurableObject(g, (instance) => {
      (instance as unknown as { ticketMarginMs: number }).ticketMarginMs = 100;
    });
    const t = await g.acquire(request({ limits, leaseUntil: Date.now() + 100 }));
    if (!t.granted) throw new Error("must be granted");
    await g.call(t.ticket, limits, Date.now() + 900);
    await new Promise((r) => setTimeout(r, 400));
    expect(await g.acquire(request({ limits }))).toMatchObject({ granted: false, reason: "concurrency" });
    await new Promise((r) => setTimeout(r, 800));
    expect(await g.acquire(request({ limits }))).toMatchObject({ granted: true });
  });

  it("gives up a probe whose consumer died at the end of its lease", async () => {
    const g = gate();
    const limits = { ratePerSecond: 100, burst: 100, concurrency: 10 };
    await runInDurableObject(g, (instance) => {
      (instance as unknown as { ticketMarginMs: number }).ticketMarginMs = 100;
    });
    for (let i = 0; i < 3; i++) {
      const t = await g.acquire(request({ limits }));
      if (t.granted) await g.release({ ...release, ticket: t.ticket, outcome: "retryable" });
    }
    await new Promise((r) => setTimeout(r, 350));
    expect(await g.acquire(request({ limits, leaseUntil: Date.now() + 200 }))).toMatchObject({ granted: true, probe: true });
    expect(await g.acquire(request({ limits }))).toMatchObject({ granted: false, reason: "paused" });
    await new Promise((r) => setTimeout(r, 400));
    expect(await g.acquire(request({ limits }))).toMatchObject({ granted: true, probe: true });
  });

  it("a probe that made no call neither closes the circuit nor counts as a failure: the next probe decides", async () => {
    const g = gate();
    const limits = { ratePerSecond: 100, burst: 100, concurrency: 10 };
    for (let i = 0; i < 3; i++) {
      const t = await g.acquire(request({ limits }));
      if (t.granted) await g.release({ ...release, ticket: t.ticket, outcome: "retryable" });
    }
    await new Promise((r) => setTimeout(r, 350));
    // The probe adopted what it found without a call (or failed its own validation).
    for (const outcome of ["ok", "permanent", "retryable"] as const) {
      const probe = await g.acquire(request({ limits }));
      expect(probe).toMatchObject({ granted: true, probe: true });
      if (!probe.granted) throw new Error("probe must be granted");
      expect(await g.release({ ...release, calls: 0, ticket: probe.ticket, outcome })).toMatchObject({
        opened: false,
        closed: false,
      });
      expect(await g.status()).toMatchObject({ paused: true, consecutiveFailures: 3 });
    }
    const probe = await g.acquire(request({ limits }));
    if (!probe.granted) throw new Error("the next probe must be granted");
    expect(await g.release({ ...release, ticket: probe.ticket, outcome: "ok" })).toMatchObject({ closed: true });
  });

  it("holds a key for one holder at a time, until it lets go or its time is up", async () => {
    const g = gate();
    const now = Date.now();
    expect(await g.hold("customer:a", "one", now + 60_000)).toEqual({ held: true });
    expect(await g.hold("customer:a", "two", now + 60_000)).toMatchObject({ held: false });
    expect(await g.hold("customer:b", "two", now + 60_000)).toEqual({ held: true });
    await g.letGo("customer:a", "two");
    expect(await g.hold("customer:a", "two", now + 60_000)).toMatchObject({ held: false });
    await g.letGo("customer:a", "one");
    expect(await g.hold("customer:a", "two", now + 200)).toEqual({ held: true });
    await new Promise((r) => setTimeout(r, 250));
    expect(await g.hold("customer:a", "three", now + 60_000)).toEqual({ held: true });
  });
});

describe("what a step's release tells its gate", () => {
  const config = runtimeConfig(env);
  const limits = { ratePerSecond: 100, burst: 100, concurrency: 10 };
  const stepOf = (target: string) => ({ target, priority: "order" }) as StepMessage;
  const retry = (code: string, errorClass: StepError["errorClass"]): StepOutcome => ({
    kind: "retry",
    error: { message: code, code, errorClass },
  });

  it("local contention for a record is no failure of the target: it never opens the circuit", async () => {
    const target = `con_${crypto.randomUUID()}`;
    const g = gateFor(env, target);
    for (let i = 0; i < config.circuitFailureThreshold + 1; i++) {
      const t = await g.acquire(request({ limits }));
      if (!t.granted) throw new Error("must be granted while closed");
      const change = await releaseGate(env, stepOf(target), t.ticket, 2, retry("record_busy", "unavailable"), config);
      expect(change.opened).toBe(false);
    }
    expect(await g.status()).toMatchObject({ paused: false, consecutiveFailures: 0 });
  });

  it("a step that ran out of its own lease's time holds nobody up, as the target's 429 would", async () => {
    const target = `con_${crypto.randomUUID()}`;
    const g = gateFor(env, target);
    const t = await g.acquire(request({ limits }));
    if (!t.granted) throw new Error("must be granted");
    await releaseGate(env, stepOf(target), t.ticket, 1, retry("step_out_of_time", "rate_limited"), config);
    expect(await g.acquire(request({ limits }))).toMatchObject({ granted: true });
    // The target's own 429 still holds the connection for everyone.
    const u = await g.acquire(request({ limits }));
    if (!u.granted) throw new Error("must be granted");
    await releaseGate(env, stepOf(target), u.ticket, 1, retry("outbound_rate_limited", "rate_limited"), config);
    expect(await g.acquire(request({ limits }))).toMatchObject({ granted: false, reason: "rate-limited-by-target" });
  });

  it("a ticket taken for a step lives until the step's lease is over, not for 15 minutes", async () => {
    const target = `con_${crypto.randomUUID()}`;
    const leaseUntil = expectedLeaseEnd(config);
    const taken = await acquireGate(env, { ...stepOf(target), kind: "step" } as StepMessage, "economic", config, leaseUntil);
    expect(taken?.result.granted).toBe(true);
    const expiries = await runInDurableObject(gateFor(env, target), (instance) => [
      ...(instance as unknown as { running: Map<string, number> }).running.values(),
    ]);
    expect(expiries).toHaveLength(1);
    expect(expiries[0]! - leaseUntil).toBeGreaterThan(0);
    expect(expiries[0]! - leaseUntil).toBeLessThanOrEqual(60_000);
  });
});
