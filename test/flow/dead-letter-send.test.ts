/**
 * A failed step's dead letter when the dead-letter queue cannot take it: retrying the step message
 * would not bring it back (its redelivery finds the step failed and is acked), so the consumer
 * writes the D1 row the DLQ consumer would have written, once, and acks.
 */
import { env } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { afterEach, describe, expect, it, vi } from "vitest";
import { database } from "../../src/db/client";
import { deadLetters } from "../../src/db/schema";
import type { StepMessage } from "../../src/durable/order-types";
import { handleQueue } from "../../src/worker/queue/consumer";
import { holdFirstStep } from "../helpers/step-messages";
import { createWorld, orderObject, shopifyOrder } from "../helpers/world";

/** A step message of a transfer whose only step fails at once (a ledger that rejects the order). */
async function failingStepMessage(): Promise<StepMessage> {
  const world = await createWorld();
  const strict = await world.api("/connections", {
    body: { connector: "sandbox-ledger", name: "Strict ledger", settings: { rejectOrdersAbove: 10000 } },
  });
  await world.flow("paid", [{ target: strict.body.id, action: "createInvoice" }]);
  const order = shopifyOrder();
  const held = await holdFirstStep(orderObject(world, order));
  await world.sendShopify("orders/paid", order);
  await vi.waitFor(() => expect(held).toHaveLength(1), { timeout: 5000 });
  return held[0]!;
}

/** Delivers `body` to the step consumer as the queue would, and says how it was settled. */
async function deliver(body: StepMessage) {
  const settled = { ack: 0, retry: 0 };
  const message = {
    id: crypto.randomUUID(),
    timestamp: new Date(),
    body,
    attempts: 1,
    ack: () => void settled.ack++,
    retry: () => void settled.retry++,
  } as unknown as Message<unknown>;
  const batch = { queue: "orderly-steps", messages: [message], ackAll() {}, retryAll() {} } as unknown as MessageBatch<unknown>;
  await handleQueue(batch, env);
  return settled;
}

async function lettersOf(transferId: string) {
  return database(env).select().from(deadLetters).where(eq(deadLetters.transferId, transferId));
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("a dead letter the dead-letter queue could not take", () => {
  it("is written to D1 by the step consumer, once, and the message is acked", async () => {
    const message = await failingStepMessage();
    const send = vi.spyOn(env.DEAD_LETTERS, "send").mockRejectedValue(new Error("queue unavailable"));
    expect(await deliver(message)).toEqual({ ack: 1, retry: 0 });
    expect(send).toHaveBeenCalledTimes(1);
    const letters = await lettersOf(message.transferId);
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ tenantId: message.tenantId });
    expect(letters[0]!.reason).toMatch(/rejects orders above 10000/);
    expect(letters[0]!.body).toMatchObject({ transferId: message.transferId, stepIndex: 0 });
    // A redelivery finds the step failed: acked, and no second row.
    expect(await deliver(message)).toEqual({ ack: 1, retry: 0 });
    expect(await lettersOf(message.transferId)).toHaveLength(1);
  });
});
