import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { AcquireRequest } from "../../src/durable/target-gate";

function gate() {
  return env.GATES.get(env.GATES.idFromName(`con_${crypto.randomUUID()}`));
}

const request = (over: Partial<AcquireRequest> = {}): AcquireRequest => ({
  limits: { ratePerSecond: 2, burst: 4, concurrency: 10 },
  priority: "order",
  cost: 1,
  failureThreshold: 3,
  cooldownMs: 300,
  ...over,
});

const release = { calls: 1, failureThreshold: 3, cooldownMs: 300 } as const;

describe("a target's gate", () => {
  it("grants up to the burst, then asks to wait for the rate", async () => {
    const g = gate();
    const results = [];
    for (let i = 0; i < 5; i++) results.push(await g.acquire(request()));
    expect(results.slice(0, 4).every((r) => r.granted)).toBe(true);
    const denied = results[4]!;
    expect(denied).toMatchObject({ granted: false, reason: "rate" });
    if (!denied.granted) expect(denied.retryAfterMs).toBeGreaterThan(0);
  });

  it("keeps half of the bucket for orders: bulk work waits first", async () => {
    const g = gate();
    expect((await g.acquire(request({ priority: "bulk" }))).granted).toBe(true);
    expect((await g.acquire(request({ priority: "bulk" }))).granted).toBe(true);
    expect(await g.acquire(request({ priority: "bulk" }))).toMatchObject({ granted: false, reason: "rate" });
    expect((await g.acquire(request({ priority: "order" }))).granted).toBe(true);
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

  it("makes everyone wait out a 429's Retry-After", async () => {
    const g = gate();
    const first = await g.acquire(request());
    if (!first.granted) throw new Error("first acquire must be granted");
    await g.release({ ...release, ticket: first.ticket, outcome: "rate-limited", retryAfterSeconds: 5 });
    const next = await g.acquire(request());
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
});

describe("the gate's accounting", () => {
  it("charges a step what it really called: a reservation of six that made three calls costs three", async () => {
    const g = gate();
    const limits = { ratePerSecond: 0.001, burst: 12, concurrency: 10 };
    const first = await g.acquire(request({ limits, cost: 6 }));
    if (!first.granted) throw new Error("must be granted");
    await g.release({ ...release, calls: 3, ticket: first.ticket, outcome: "ok" });
    // 12 − 3 = 9 tokens left: another reservation of six still fits, a third does not.
    expect((await g.acquire(request({ limits, cost: 6 }))).granted).toBe(true);
    expect(await g.acquire(request({ limits, cost: 6 }))).toMatchObject({ granted: false, reason: "rate" });
  });
});

describe("bulk work at a target whose steps reserve much of the bucket", () => {
  it("is still granted: a bulk reservation never exceeds what lies above the orders' reserve", async () => {
    const g = gate();
    // e-conomic: a bucket of 10 with half kept for orders; createInvoice reserves 6 calls.
    expect(
      (await g.acquire(request({ limits: { ratePerSecond: 10, burst: 10, concurrency: 4 }, priority: "bulk", cost: 6 }))).granted,
    ).toBe(true);
  });
});
