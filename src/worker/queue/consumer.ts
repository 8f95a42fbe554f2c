/**
 * Queue handlers. Each message is acked or retried on its own, so one failure never retries the
 * batch; nothing throws out of the handler.
 */
import { database } from "../../db/client";
import { deadLetters } from "../../db/schema";
import type { HandedStep, StepMessage, StepVerdict } from "../../durable/order-types";
import { alertTransferFailure } from "../../notifications/failure-alerts";
import { runStep } from "./run-step";

export const DEAD_LETTER_QUEUE = "orderly-steps-dlq";

export async function handleQueue(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  if (batch.queue.startsWith(DEAD_LETTER_QUEUE)) return keepDeadLetters(batch, env);
  await Promise.all(batch.messages.map((message) => handleStepMessage(message as Message<StepMessage>, env)));
}

/**
 * Steps one message may carry on with in its invocation: when a step reports, its order's object
 * hands the next step over instead of sending it through the queue (no message, no invocation,
 * no queue wait). Bounded, so an invocation stays far inside its wall-time and CPU limits; after
 * the bound the object sends the next step through the queue.
 */
export const HAND_OVER_LIMITS = { steps: 16, windowMs: 60_000 };

async function handleStepMessage(message: Message<StepMessage>, env: Env): Promise<void> {
  const started = Date.now();
  const mayTakeNext = (taken: number) => taken + 1 < HAND_OVER_LIMITS.steps && Date.now() - started < HAND_OVER_LIMITS.windowMs;
  let next: HandedStep | undefined;
  try {
    const verdict = await runStep(env, message.body, mayTakeNext(0));
    if (verdict.next === "retry") {
      message.retry({ delaySeconds: verdict.delaySeconds });
      return;
    }
    if (verdict.next === "dead-letter") await deadLetter(env, message.body, verdict.reason);
    message.ack();
    next = handedOver(verdict);
  } catch (error) {
    // The order's object or D1 was unreachable: try again shortly. The object still holds the step.
    console.error("step message failed", { transferId: message.body?.transferId, error: String(error) });
    message.retry({ delaySeconds: Math.min(60, 2 ** message.attempts) });
    return;
  }
  for (let taken = 1; next; taken++) {
    const handed = next;
    const step = handed.message;
    next = undefined;
    try {
      const verdict = await runStep(env, step, mayTakeNext(taken), handed);
      // A handed-over step has no message of its own: its retry is a new one, with the same body
      // (if that send fails, the object re-sends the step when it is overdue).
      if (verdict.next === "retry") {
        await env.STEPS.send(step, { contentType: "json", delaySeconds: verdict.delaySeconds }).catch(() => {});
      }
      if (verdict.next === "dead-letter") await deadLetter(env, step, verdict.reason);
      next = handedOver(verdict);
    } catch (error) {
      console.error("handed-over step failed", { transferId: step.transferId, error: String(error) });
      // Its claim may still hold: the message waits out the lease ("busy"). If this send fails
      // too, the object re-sends the step when it is overdue.
      await env.STEPS.send(step, { contentType: "json", delaySeconds: 1 }).catch(() => {});
    }
  }
}

function handedOver(verdict: StepVerdict): HandedStep | undefined {
  return verdict.next === "ack" || verdict.next === "dead-letter" ? verdict.handOver : undefined;
}

/**
 * The transfer is already failed with its reason; the DLQ keeps the message for inspection, and
 * its consumer the D1 row. A send that fails writes the row here instead: retrying the message
 * would not bring it back, as its redelivery finds the step failed and is acked. Never throws, so
 * the message is acked and the alert raised either way.
 */
async function deadLetter(env: Env, step: StepMessage, reason: string): Promise<void> {
  const body = { ...step, reason };
  try {
    await env.DEAD_LETTERS.send(body, { contentType: "json" });
  } catch (error) {
    console.error("dead letter not queued; its row is written directly", { transferId: step.transferId, error: String(error) });
    // The DLQ never got it, so this is its only row. With D1 down too it is lost: the transfer
    // still shows failed with its reason, and the failure is alerted below.
    await keepDeadLetter(env, body, reason).catch((stored: unknown) =>
      console.error("dead letter lost", { transferId: step.transferId, error: String(stored) }),
    );
  }
  // Never throws; a failure it misses is counted by the cron sweeper.
  await alertTransferFailure(env, step, reason);
}

/** A dead letter's D1 row: the DLQ consumer's, or the step consumer's when the DLQ send failed. */
async function keepDeadLetter(env: Env, body: Partial<StepMessage> & { reason?: string }, reason: string): Promise<void> {
  await database(env)
    .insert(deadLetters)
    .values({
      transferId: body.transferId ?? null,
      // Without a tenant no tenant's retention covers it: retention deletes it after ORPHAN_DEAD_LETTER_DAYS.
      tenantId: body.tenantId ?? null,
      body,
      reason,
      createdAt: Date.now(),
    });
}

/**
 * Seconds before a dead letter D1 could not take is tried again: growing, so its 100 retries
 * (wrangler.toml) span hours of a D1 outage rather than minutes.
 */
export function deadLetterRetryDelay(attempts: number): number {
  return Math.min(600, 30 * Math.max(1, attempts));
}

/** Dead letters are kept in D1 too: the DLQ itself holds messages only for days. */
async function keepDeadLetters(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  for (const message of batch.messages) {
    const body = message.body as Partial<StepMessage> & { reason?: string };
    try {
      await keepDeadLetter(env, body, body.reason ?? `exhausted the step queue's retries (${message.attempts} deliveries)`);
      message.ack();
    } catch (error) {
      console.error("dead letter not stored", String(error));
      message.retry({ delaySeconds: deadLetterRetryDelay(message.attempts) });
    }
  }
}
