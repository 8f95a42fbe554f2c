/**
 * GET /shops ("All shops"): the figures of every shop the person belongs to, on one page, so an
 * agency sees which of fifty shops fail without switching to each. Open posts the tenant
 * switcher's own form (/switch-tenant), which lands on that shop's dashboard.
 */
import { Hono } from "hono";
import { z } from "zod";
import { ShopsPage } from "../../../ui/pages/shops";
import { shopsOverview } from "./data/shops-overview";
import { page } from "./render";
import type { UiEnv } from "./ui-env";

export const shopRoutes = new Hono<UiEnv>();

/** `?attention=1` from the filter's checkbox; anything else shows every shop. */
const filterSchema = z.object({ attention: z.literal("1").optional().catch(undefined) });

shopRoutes.get("/", async (c) => {
  const session = c.var.session;
  const filter = filterSchema.parse(c.req.query());
  const { rows, total } = await shopsOverview(c.env, session.memberships);
  return page(
    c,
    { title: "All shops", active: "shops" },
    <ShopsPage
      rows={rows}
      total={total}
      attentionOnly={filter.attention === "1"}
      currentTenantId={session.tenantId}
      csrfToken={session.csrfToken}
    />,
  );
});
