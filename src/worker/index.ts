/** Wiring only: the fetch handler (Hono), the queue consumer, the cron handler, the Durable Object. */
import { createApp } from "./app";
import { runNotifications, sweepUnfinishedTransfers } from "./cron";
import { handleQueue } from "./queue/consumer";
import { applyRetention } from "./retention";

export { InboxDO } from "../durable/inbox-do";
export { OrderDO } from "../durable/order-do";
export { TargetGate } from "../durable/target-gate";

const app = createApp();

export default {
  fetch: app.fetch,
  queue: handleQueue,
  async scheduled(controller, env, ctx) {
    ctx.waitUntil(
      Promise.all([sweepUnfinishedTransfers(env), applyRetention(env), runNotifications(env, controller.scheduledTime)]),
    );
  },
} satisfies ExportedHandler<Env, unknown>;
