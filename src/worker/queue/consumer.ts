/**
 * Queue handlers. Each message is acked or retried on its own, so one failure never retries the
 * batch; nothing throws out of the handler.
 */
import { database } from "../../db/client";
import { deadLetters } from "../../db/schema";
import type { StepMessage } from "../../durable/order-types";
import { alertTransferFailure } from "../../notifications/failure-alerts";
import { runStep } from "./run-step";

export const DEAD_LETTER_QUEUE = "orderly-steps-dlq";

export async function handleQueue(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  if (batch.queue.startsWith(DEAD_LETTER_QUEUE)) return keepDeadLetters(batch, env);
  await Promise.all(batch.messages.map((message) => handleStepMessage(message as Message<StepMessage>, env)));
}

async function handleStepMessage(message: Message<StepMessage>, env: Env): Promise<void> {
  try {
    const verdict = await runStep(env, message.body);
    if (verdict.next === "retry") {
      message.retry({ delaySeconds: verdict.delaySeconds });
      return;
    }
    if (verdict.next === "dead-letter") {
      // The transfer is already failed with its reason; the DLQ keeps the message for inspection.
      await env.DEAD_LETTERS.send({ ...message.body, reason: verdict.reason }, { contentType: "json" });
      // Never throws; a failure it misses is counted by the cron sweeper.
      await alertTransferFailure(env, message.body, verdict.reason);
    }
    message.ack();
  } catch (error) {
    // The order's object or D1 was unreachable: try again shortly. The object still holds the step.
    console.error("step message failed", { transferId: message.body?.transferId, error: String(error) });
    message.retry({ delaySeconds: Math.min(60, 2 ** message.attempts) });
  }
}

/** Dead letters are kept in D1 too: the DLQ itself holds messages only for days. */
async function keepDeadLetters(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const db = database(env);
  for (const message of batch.messages) {
    const body = message.body as Partial<StepMessage> & { reason?: string };
    try {
      await db.insert(deadLetters).values({
        transferId: body.transferId ?? null,
        tenantId: body.tenantId ?? null,
        body,
        reason: body.reason ?? `exhausted the step queue's retries (${message.attempts} deliveries)`,
        createdAt: Date.now(),
      });
      message.ack();
    } catch (error) {
      console.error("dead letter not stored", String(error));
      message.retry({ delaySeconds: 30 });
    }
  }
}
