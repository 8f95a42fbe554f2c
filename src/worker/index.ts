/** Wiring only: the fetch handler (Hono), the queue consumer, the cron handler, the Durable Object. */
import { createApp } from "./app";
import { sweepUnfinishedTransfers } from "./cron";
import { handleQueue } from "./queue/consumer";
import { applyRetention } from "./retention";

export { OrderDO } from "../durable/order-do";
export { TargetGate } from "../durable/target-gate";

const app = createApp();

export default {
  fetch: app.fetch,
  queue: handleQueue,
  async scheduled(_controller, env, ctx) {
    ctx.waitUntil(Promise.all([sweepUnfinishedTransfers(env), applyRetention(env)]));
  },
} satisfies ExportedHandler<Env, unknown>;
