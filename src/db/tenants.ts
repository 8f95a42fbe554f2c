/**
 * New tenants ("shops"): the rules for their name and alert addresses, their id, and the write that
 * makes one with its first owner. Shared by the UI's "New shop" and `npm run tenant:create`.
 */
import { z } from "zod";
import { randomId } from "../worker/routes/ui/auth/tokens";
import { database } from "./client";
import { memberships, tenants } from "./schema";

export const TENANT_NAME_MAX = 100;

/** The name people pick a tenant by in the switcher: one line of text. */
export const tenantNameSchema = z
  .string()
  .trim()
  .min(1, "give the shop a name")
  .max(TENANT_NAME_MAX, `at most ${TENANT_NAME_MAX} characters`)
  .regex(/^[^\p{Cc}]*$/u, "one line of text, without control characters");

/** The same rule as the Notifications page's recipients. */
export const alertEmailsSchema = z
  .array(z.email({ error: (i) => `“${String(i.input)}” is not an email address` }))
  .max(20, "at most 20 recipients");

export function newTenantId(): string {
  return randomId("ten");
}

/**
 * Writes the tenant and the owner's membership in one batch (one transaction), so no tenant is
 * ever left without an owner. Returns the new tenant's id.
 */
export async function createTenantWithOwner(
  env: Pick<Env, "DB">,
  input: { name: string; alertEmails: string[]; ownerUserId: string },
): Promise<string> {
  const db = database(env);
  const id = newTenantId();
  await db.batch([
    db.insert(tenants).values({ id, name: input.name, alertEmails: input.alertEmails }),
    db.insert(memberships).values({ userId: input.ownerUserId, tenantId: id, role: "owner" }),
  ]);
  return id;
}
