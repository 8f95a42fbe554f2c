/**
 * Keeps an order's step messages from the queue, so the test is their consumer: the order's
 * object sends them as usual and they land here instead of at the queue consumer.
 */
import { runInDurableObject } from "cloudflare:test";
import { vi } from "vitest";
import type { OrderDO } from "../../src/durable/order-do";
import type { StepMessage } from "../../src/durable/order-types";

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
