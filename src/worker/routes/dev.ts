/** POST /dev/seed: local development only. Absent unless DEV_SEED_TOKEN is set (npm start sets it). */
import { Hono } from "hono";
import { timingSafeEqual } from "../../connectors/signatures";
import { forgetConnection } from "../../db/connections";
import { DEMO, seedDemoTenant } from "../../db/seed-demo";
import { OrderlyError } from "../../domain/errors";

export const dev = new Hono<{ Bindings: Env }>();

dev.post("/seed", async (c) => {
  const expected = c.env.DEV_SEED_TOKEN;
  const given = c.req.header("x-dev-seed-token") ?? "";
  const encoder = new TextEncoder();
  if (!expected || !timingSafeEqual(encoder.encode(expected), encoder.encode(given))) {
    throw new OrderlyError(`No route for POST ${c.req.path}.`, { errorClass: "not_found", code: "route_not_found" });
  }
  const { webhookSecret, demoPassword } = await c.req.json<{ webhookSecret: string; demoPassword?: string }>();
  const seed = await seedDemoTenant(c.env, webhookSecret, demoPassword);
  forgetConnection(DEMO.shopId);
  return c.json(seed);
});
