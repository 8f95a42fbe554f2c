import { DurableObject } from "cloudflare:workers";
export class OrderDO extends DurableObject<Env> {
  async ping() {
    return (globalThis as any).__marker ?? "none";
  }
}
export default {
  async fetch(req: Request, env: Env) {
    const r = await fetch("https://example.test/x");
    const stub = env.ORDERS.get(env.ORDERS.idFromName("a"));
    return new Response(`${await r.text()} do=${await stub.ping()}`);
  },
  async queue(batch: MessageBatch, env: Env) {
    for (const m of batch.messages) {
      (globalThis as any).__q = ((globalThis as any).__q ?? 0) + 1;
      m.ack();
    }
  },
} satisfies ExportedHandler<Env>;
