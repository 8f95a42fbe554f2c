/** Wiring only: the fetch handler (Hono), the queue consumer, the cron handler, the Durable Object. */
import { createApp } from "./app";
import { runScheduled } from "./cron";
import { handleQueue } from "./queue/consumer";

export { InboxDO } from "../durable/inbox-do";
export { OrderDO } from "../durable/order-do";
export { TargetGate } from "../durable/target-gate";

const app = createApp();

export default {
  fetch: app.fetch,
  queue: handleQueue,
  async scheduled(controller, env, ctx) {
    ctx.waitUntil(runScheduled(env, controller.cron, controller.scheduledTime));
  },
} satisfies ExportedHandler<Env, unknown>;
