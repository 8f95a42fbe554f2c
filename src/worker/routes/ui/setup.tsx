/**
 * /setup: copy another of the person's shops' connections and flows into this one, or download
 * this shop's setup. Reading the other shop needs membership of it, as switching to it would.
 */
import { type Context, Hono } from "hono";
import { OrderlyError } from "../../../domain/errors";
import { SetupCopiedPage, SetupCopyPage } from "../../../ui/pages/setup-copy";
import { exportSetup, importSetup } from "../api/setup";
import { audit } from "./audit";
import { page } from "./render";
import { canEdit, type UiEnv } from "./ui-env";

export const setupRoutes = new Hono<UiEnv>();

function otherShops(session: UiEnv["Variables"]["session"]) {
  return session.memberships.filter((m) => m.tenantId !== session.tenantId);
}

function form(c: Context<UiEnv>, errors?: string[]) {
  const s = c.var.session;
  return page(
    c,
    { title: "Copy a setup", active: "connections", status: errors ? 400 : 200 },
    <SetupCopyPage shops={otherShops(s)} canEdit={canEdit(s.role)} csrf={s.csrfToken} errors={errors} />,
  );
}

setupRoutes.get("/", (c) => form(c));

setupRoutes.get("/export.json", async (c) => {
  const doc = await exportSetup(c.env, c.var.session.tenantId);
  return c.body(JSON.stringify(doc, null, 2), 200, {
    "content-type": "application/json; charset=utf-8",
    "content-disposition": 'attachment; filename="orderly-setup.json"',
    "cache-control": "no-store",
  });
});

setupRoutes.post("/copy", async (c) => {
  const s = c.var.session;
  const body = await c.req.parseBody();
  const from = otherShops(s).find((m) => m.tenantId === body.from);
  if (!from) return form(c, ["Copy from: choose one of the other shops you work in."]);
  try {
    const copied = await importSetup(c.env, s.tenantId, await exportSetup(c.env, from.tenantId), new URL(c.req.url).origin);
    await audit(c.env, s, "setup.copy", from.tenantId, {
      from: from.tenantName,
      connections: copied.connections.map((x) => x.id),
      flows: copied.flows.map((x) => x.id),
    });
    return page(
      c,
      { title: "Setup copied", active: "connections" },
      <SetupCopiedPage from={from.tenantName} connections={copied.connections} flows={copied.flows} todo={copied.todo} />,
    );
  } catch (error) {
    if (error instanceof OrderlyError && (error.errorClass === "validation" || error.errorClass === "conflict"))
      return form(c, [error.message]);
    throw error;
  }
});
