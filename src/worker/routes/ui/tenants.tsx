/**
 * /tenants/new: "New shop". A signed-in person the operator allows (TENANT_CREATORS) creates a
 * tenant, becomes its owner and works in it from then on. Who may is about the person, not their
 * role in the tenant they are in now, so a viewer somewhere may still be allowed.
 */
import { type Context, Hono } from "hono";
import { z } from "zod";
import { alertEmailsSchema, createTenantWithOwner, tenantNameSchema } from "../../../db/tenants";
import { NewTenantPage, type NewTenantValues } from "../../../ui/pages/tenant-new";
import { forbiddenPage, page, redirectWith } from "./render";
import type { UiEnv } from "./ui-env";

export const tenantRoutes = new Hono<UiEnv>();

/**
 * TENANT_CREATORS: comma-separated addresses, or `*` for every signed-in person; empty (the
 * default) lets nobody create shops in the UI (the operator still can: `npm run tenant:create`).
 */
export function mayCreateTenants(env: Partial<Pick<Env, "TENANT_CREATORS">>, email: string): boolean {
  const allowed = (env.TENANT_CREATORS ?? "")
    .split(",")
    .map((entry) => entry.trim().toLowerCase())
    .filter(Boolean);
  return allowed.includes("*") || allowed.includes(email.trim().toLowerCase());
}

const newTenantSchema = z.object({ name: tenantNameSchema, alertEmails: alertEmailsSchema });

function refused(c: Context<UiEnv>) {
  return forbiddenPage(
    c,
    `Creating shops is not open to ${c.var.session.email} on this Orderly. Its operator decides who may (TENANT_CREATORS); ask them to add you, or to create the shop for you.`,
  );
}

function sameName(c: Context<UiEnv>, values: NewTenantValues, existing: string) {
  return render(c, values, [`Shop name: you already work in a shop named “${existing}”; pick another name.`]);
}

function render(c: Context<UiEnv>, values: NewTenantValues, errors?: string[]) {
  return page(
    c,
    { title: "New shop", status: errors ? 400 : 200 },
    <NewTenantPage values={values} csrf={c.var.session.csrfToken} errors={errors} />,
  );
}

tenantRoutes.get("/new", (c) => {
  if (!mayCreateTenants(c.env, c.var.session.email)) return refused(c);
  return render(c, { name: "", alertEmails: "" });
});

tenantRoutes.post("/new", async (c) => {
  const s = c.var.session;
  if (!mayCreateTenants(c.env, s.email)) return refused(c);
  const form = await c.req.parseBody();
  const text = (k: string) => (typeof form[k] === "string" ? (form[k] as string).trim() : "");
  const values: NewTenantValues = { name: text("name"), alertEmails: text("alertEmails") };
  const parsed = newTenantSchema.safeParse({
    name: values.name,
    alertEmails: values.alertEmails.split(/[\s,;]+/).filter(Boolean),
  });
  if (!parsed.success)
    return render(
      c,
      values,
      parsed.error.issues.map((i) => `${i.path[0] === "name" ? "Shop name" : "Alert recipients"}: ${i.message}`),
    );
  const { name, alertEmails } = parsed.data;
  // Two shops of one name could not be told apart in the switcher. This read of the memberships
  // loaded with the session also folds non-ASCII case; the write's own check (SQLite's lower(), in
  // its transaction) is what stops a double click.
  const same = s.memberships.find((m) => m.tenantName.toLowerCase() === name.toLowerCase());
  if (same) return sameName(c, values, same.tenantName);
  // The session's tenant is shared by every tab: pages still open on the old one answer their next
  // form with the tenant-bound CSRF check, as after a switch.
  const made = await createTenantWithOwner(c.env, {
    name,
    alertEmails,
    ownerUserId: s.userId,
    auditDetails: { name, alertEmails, from: s.tenantId },
    switchSession: s.idHash,
  });
  if (!made.created) return sameName(c, values, made.sameName);
  return redirectWith(c, "/", `Created ${name}; you are its owner and work in it now. Add its connections next.`);
});
