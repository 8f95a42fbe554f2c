import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { AcceptResult } from "../../src/durable/inbox-do";
import { orderObjectName } from "../../src/durable/order-types";
import { acceptInShard, BATCH_LIMITS, type InboxShardStub, isMissingMethod } from "../../src/worker/inbox-batch";
import { inboxFor } from "../../src/worker/routes/hooks";
import { inboxTestEntry } from "../helpers/inbox-entry";
import { createWorld, orderObject, shopifyOrder } from "../helpers/world";

/** A shard whose calls are recorded and answered only when the test releases them. */
function heldStub() {
  const calls: { keys: string[]; release: (error?: Error) => void }[] = [];
  const stub: InboxShardStub = {
    acceptMany(deliveries) {
      return new Promise<AcceptResult[]>((resolve, reject) => {
        calls.push({
          keys: deliveries.map((events) => events[0]!.deliveryKey),
          release: (error) => (error ? reject(error) : resolve(deliveries.map(() => ({ accepted: 1, duplicates: 0 })))),
        });
      });
    },
    accept() {
      throw new Error("this release's shard is called with acceptMany");
    },
  };
  return { stub, calls };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));
// Each test its own shard number: the lines are kept per isolate.
let nextShard = 5000;

/** A fresh shard line with a held stub; `send(key)` delivers order `key`'s one event to it. */
function heldShard(limits = BATCH_LIMITS) {
  const shard = nextShard++;
  const { stub, calls } = heldStub();
  const keptAlive: Promise<unknown>[] = [];
  const send = (key: string) =>
    acceptInShard(
      () => stub,
      shard,
      [inboxTestEntry("con_batch", key)],
      () => 3,
      (call) => keptAlive.push(call),
      limits,
    );
  return { calls, send, keptAlive };
}

describe("group commit toward the inbox shards", () => {
  it("fails only the delivery its shard could not store: the others of the call are answered as stored", async () => {
    const shard = nextShard++;
    const stub: InboxShardStub = {
      acceptEach: async (deliveries) =>
        deliveries.map((events) =>
          events[0]!.deliveryKey.endsWith(":b") ? { error: "database or disk is full" } : { accepted: 1, duplicates: 0 },
        ),
      acceptMany: () => Promise.reject(new Error("this release's Worker calls acceptEach")),
      accept: () => Promise.reject(new Error("this release's Worker calls acceptEach")),
    };
    let release = () => {};
    const blocker: InboxShardStub = {
      ...stub,
      acceptEach: (deliveries) => new Promise((resolve) => (release = () => resolve(stub.acceptEach!(deliveries, 1)))),
    };
    let calls = 0;
    const send = (key: string) =>
      acceptInShard(
        () => (calls++ === 0 ? blocker : stub),
        shard,
        [inboxTestEntry("con_each", key)],
        () => 3,
        () => {},
      );
    // The first call holds the line, so a, b and c go together in the second.
    const first = send("first");
    await tick();
    const together = ["a", "b", "c"].map((key) =>
      send(key).then(
        (r) => ({ ok: r }),
        (error: Error & { code?: string }) => ({ error }),
      ),
    );
    await tick();
    release();
    expect(await first).toEqual({ accepted: 1, duplicates: 0 });
    const [a, b, c] = await Promise.all(together);
    expect(a).toEqual({ ok: { accepted: 1, duplicates: 0 } });
    expect(c).toEqual({ ok: { accepted: 1, duplicates: 0 } });
    expect(b).toMatchObject({ error: { code: "inbox_not_stored" } });
    expect((b as { error: Error }).error.message).toMatch(/disk is full/);
    expect(calls).toBe(2);
  });

  it("sends a lone delivery at once, and those arriving during a call together in the next one", async () => {
    const { calls, send, keptAlive } = heldShard();
    const first = send("a");
    await tick();
    expect(calls.map((c) => c.keys)).toEqual([["d:con_batch:a"]]);
    // The call is handed to waitUntil, so it outlives a sender that disconnects.
    expect(keptAlive).toHaveLength(1);
    const later = ["b", "c", "d"].map(send);
    await tick();
    expect(calls).toHaveLength(1);
    calls[0]!.release();
    expect(await first).toEqual({ accepted: 1, duplicates: 0 });
    await tick();
    expect(calls.map((c) => c.keys)).toEqual([["d:con_batch:a"], ["d:con_batch:b", "d:con_batch:c", "d:con_batch:d"]]);
    calls[1]!.release();
    expect(await Promise.all(later)).toEqual(Array(3).fill({ accepted: 1, duplicates: 0 }));
  });

  it("fails every delivery of a failed call, and only those", async () => {
    const { calls, send } = heldShard();
    const first = send("a");
    await tick();
    const second = [send("b"), send("c")];
    calls[0]!.release();
    await first;
    await tick();
    calls[1]!.release(new Error("shard overloaded"));
    await expect(second[0]).rejects.toThrow("shard overloaded");
    await expect(second[1]).rejects.toThrow("shard overloaded");
    const third = send("d");
    await tick();
    calls[2]!.release();
    expect(await third).toEqual({ accepted: 1, duplicates: 0 });
  });

  it("fails a delivery whose shard stub cannot be made, and the next delivery still goes", async () => {
    const shard = nextShard++;
    const { stub, calls } = heldStub();
    let made = 0;
    const stubFor = () => {
      if (made++ === 0) throw new Error("binding unavailable");
      return stub;
    };
    const send = (key: string) =>
      acceptInShard(
        stubFor,
        shard,
        [inboxTestEntry("con_batch", key)],
        () => 1,
        () => {},
      );
    await expect(send("a")).rejects.toThrow("binding unavailable");
    const next = send("b");
    await tick();
    expect(calls.map((c) => c.keys)).toEqual([["d:con_batch:b"]]);
    calls[0]!.release();
    expect(await next).toEqual({ accepted: 1, duplicates: 0 });
  });

  it("sends each delivery on its own to a shard of the release before acceptMany (a gradual deployment), and fails none", async () => {
    // Workers RPC's own answer for a method the object's code lacks (here an order object's).
    const real = env.ORDERS.get(env.ORDERS.idFromName("inbox-batch-no-such-method")) as unknown as InboxShardStub;
    const missing = await real.acceptMany([], 1).catch((error: unknown) => error);
    expect(isMissingMethod(missing, "acceptMany")).toBe(true);
    const accepted: string[][] = [];
    const previous: InboxShardStub = {
      acceptMany: () => Promise.reject(missing),
      accept: async (events) => {
        accepted.push(events.map((e) => e.deliveryKey));
        return { accepted: events.length, duplicates: 0 };
      },
    };
    const shard = nextShard++;
    const send = (key: string) =>
      acceptInShard(
        () => previous,
        shard,
        [inboxTestEntry("con_batch", key)],
        () => 3,
        () => {},
      );
    expect(await Promise.all(["a", "b", "c"].map(send))).toEqual(Array(3).fill({ accepted: 1, duplicates: 0 }));
    expect(accepted.flat().sort()).toEqual(["d:con_batch:a", "d:con_batch:b", "d:con_batch:c"]);
    // Any other failure still fails the call's deliveries (the senders retry).
    const failing: InboxShardStub = { ...previous, acceptMany: () => Promise.reject(new Error("shard overloaded")) };
    await expect(
      acceptInShard(
        () => failing,
        nextShard++,
        [inboxTestEntry("con_batch", "d")],
        () => 1,
        () => {},
      ),
    ).rejects.toThrow("shard overloaded");
  });

  it("keeps a call to the batch limit", async () => {
    const { calls, send } = heldShard({ ...BATCH_LIMITS, maxBatch: 4 });
    const all = [send("0")];
    await tick();
    for (let i = 1; i <= 6; i++) all.push(send(String(i)));
    await tick();
    calls[0]!.release();
    await tick();
    expect(calls[1]!.keys).toHaveLength(4);
    calls[1]!.release();
    await tick();
    expect(calls[2]!.keys).toHaveLength(2);
    calls[2]!.release();
    expect(await Promise.all(all)).toHaveLength(7);
  });

  it("takes over from a call that never ends, and answers 503 for a delivery whose own call never ends", async () => {
    const { calls, send } = heldShard({ ...BATCH_LIMITS, recheckMs: 10, stuckMs: 150 });
    const stuck = expect(send("a")).rejects.toMatchObject({ code: "inbox_timeout" });
    await tick();
    const waiting = send("b");
    // "a"'s call never answers: "a" gets a 503 after stuckMs (the sender retries, the shard dedupes
    // if it was stored), and "b" goes on its own.
    await new Promise((resolve) => setTimeout(resolve, 250));
    await stuck;
    expect(calls.map((c) => c.keys)).toEqual([["d:con_batch:a"], ["d:con_batch:b"]]);
    calls[1]!.release();
    expect(await waiting).toEqual({ accepted: 1, duplicates: 0 });
    calls[0]!.release();
  });

  it("gives a delivery that waited its turn the whole stuckMs for the call it goes in", async () => {
    // Margins of 300 ms or more either way, so a loaded machine's late timers cannot flip it.
    const { calls, send } = heldShard({ ...BATCH_LIMITS, recheckMs: 10, stuckMs: 1000 });
    const first = send("a");
    await tick();
    const waiting = [send("b"), send("c")];
    // "a"'s call answers after 700 ms; "b" or "c" then makes the next call, with both in it, which
    // answers 700 ms later: 1,400 ms after "c" arrived, but within stuckMs of the call it went in.
    await new Promise((resolve) => setTimeout(resolve, 700));
    calls[0]!.release();
    await first;
    await new Promise((resolve) => setTimeout(resolve, 700));
    // Whichever of them makes the call (its own recheck may come first) puts its delivery first.
    expect([...calls[1]!.keys].sort()).toEqual(["d:con_batch:b", "d:con_batch:c"]);
    calls[1]!.release();
    expect(await Promise.all(waiting)).toEqual(Array(2).fill({ accepted: 1, duplicates: 0 }));
  });

  it("answers every one of many concurrent webhooks after its event is stored; a re-delivery is stored and its order keeps the event once", async () => {
    const world = await createWorld();
    const orders = Array.from({ length: 60 }, () => shopifyOrder());
    const deliveryIds = orders.map((_, i) => `batch-${crypto.randomUUID()}-${i}`);
    const send = (i: number) =>
      world.sendShopify("orders/create", orders[i]!, { "X-Shopify-Webhook-Id": deliveryIds[i]! }).then(async (res) => ({
        status: res.status,
        body: (await res.json()) as { accepted: number; duplicates: number },
      }));
    const first = await Promise.all(orders.map((_, i) => send(i)));
    expect(first.map((r) => r.status)).toEqual(Array(60).fill(200));
    expect(first.map((r) => r.body.accepted)).toEqual(Array(60).fill(1));
    // The shard keeps no keys (each was a row written and later deleted for every delivery): it
    // takes the re-delivery, and the order's object, which knows the delivery id for good, drops it.
    const again = await Promise.all(orders.slice(0, 20).map((_, i) => send(i)));
    expect(again.map((r) => [r.status, r.body.accepted])).toEqual(Array(20).fill([200, 1]));
    for (const order of orders.slice(0, 3)) {
      const name = orderObjectName(world.shopId, String(order.id));
      const pending = () =>
        runInDurableObject(
          inboxFor(env, name),
          (_instance, state) =>
            state.storage.sql.exec("SELECT COUNT(*) AS n FROM pending WHERE order_name = ?", name).one().n as number,
        );
      // Both deliveries were handed on (the shard deletes a row its order's object took)...
      await expect.poll(pending, { timeout: 10_000 }).toBe(0);
      // ...and the object stored the event once.
      await expect.poll(async () => (await orderObject(world, order).describe()).events.length, { timeout: 10_000 }).toBe(1);
    }
  });

  it("stores an event seen again under another delivery id once: the shard takes it, its order's object drops it", async () => {
    const world = await createWorld();
    const order = shopifyOrder();
    const eventId = `event-${crypto.randomUUID()}`;
    const send = async (deliveryId: string) => {
      const res = await world.sendShopify("orders/create", order, {
        "X-Shopify-Webhook-Id": deliveryId,
        "X-Shopify-Event-Id": eventId,
      });
      return { status: res.status, body: (await res.json()) as { accepted: number; duplicates: number } };
    };
    expect(await send(`first-${crypto.randomUUID()}`)).toMatchObject({ status: 200, body: { accepted: 1, duplicates: 0 } });
    // The shard keeps no keys, so it takes the second; the order's object knows the event's key
    // for good and stores it once.
    expect(await send(`second-${crypto.randomUUID()}`)).toMatchObject({ status: 200, body: { accepted: 1, duplicates: 0 } });
    const stub = orderObject(world, order);
    await expect.poll(async () => (await stub.describe()).outbox, { timeout: 5000 }).toBe(0);
    await expect.poll(async () => (await stub.describe()).events.length, { timeout: 5000 }).toBe(1);
  });
});
