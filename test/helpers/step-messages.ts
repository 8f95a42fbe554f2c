/**
 * Keeps an order's step messages from the queue, so the test is their consumer: the order's
 * object sends them as usual and they land here instead of at the queue consumer.
 */
import { runInDurableObject } from "cloudflare:test";
import { expect, vi } from "vitest";
import type { OrderDO } from "../../src/durable/order-do";
import type { StepMessage } from "../../src/durable/order-types";
import { createWorld, ledgerSteps, orderObject, shopifyOrder, type World } from "./world";

const sent = { metadata: { metrics: { backlogCount: 0, backlogBytes: 0 } } } as QueueSendResponse;

/** Keeps the next step message the order sends; later ones go to the queue. */
export async function holdFirstStep(stub: DurableObjectStub<OrderDO>): Promise<StepMessage[]> {
  const held: StepMessage[] = [];
  await runInDurableObject(stub, (instance: OrderDO) => {
    vi.spyOn(queueOf(instance), "send").mockImplementationOnce(async (message) => {
      held.push(message as StepMessage);
      return sent;
    });
  });
  return held;
}

/**
 * A paid order of a flow with `steps` (the ledger's two by default) whose first step message the
 * test holds, as its consumer.
 */
export async function paidOrderWithHeldStep(steps: (world: World) => Parameters<World["flow"]>[1] = ledgerSteps) {
  const world = await createWorld();
  await world.flow("paid", steps(world));
  const order = shopifyOrder();
  const stub = orderObject(world, order);
  const held = await holdFirstStep(stub);
  await world.sendShopify("orders/paid", order);
  await vi.waitFor(() => expect(held).toHaveLength(1), { timeout: 5000 });
  return { world, order, stub, message: held[0]! };
}

/** Keeps every step message the order sends (re-sends too) until `restore()`. */
export async function holdEveryStep(
  stub: DurableObjectStub<OrderDO>,
): Promise<{ held: StepMessage[]; restore: () => Promise<void> }> {
  const held: StepMessage[] = [];
  const undo = await runInDurableObject(stub, (instance: OrderDO) => {
    const spy = vi.spyOn(queueOf(instance), "send").mockImplementation(async (message) => {
      held.push(message as StepMessage);
      return sent;
    });
    return () => spy.mockRestore();
  });
  return { held, restore: () => runInDurableObject(stub, () => undo()) };
}

function queueOf(instance: OrderDO): Queue {
  return (instance as unknown as { env: Env }).env.STEPS;
}
