/**
 * New tenants ("shops"): the rules for their name and alert addresses, their id, and the write that
 * makes one with its first owner. Shared by the UI's "New shop" and `npm run tenant:create`.
 */
import { z } from "zod";
import { randomId } from "../worker/routes/ui/auth/tokens";

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

/** The owner's tenants named alike, as far as SQLite's lower() folds case (ASCII letters). */
const SAME_NAME_OF_USER = `SELECT t.name FROM tenants t JOIN memberships m ON m.tenant_id = t.id
  WHERE m.user_id = ?1 AND lower(trim(t.name)) = lower(trim(?2))`;

export type NewTenantOutcome = { created: true; tenantId: string } | { created: false; sameName: string };

/**
 * Writes the tenant, the owner's membership, the audit entry and (given a session) the switch to
 * the new tenant in one batch (one transaction): no tenant is left without an owner or unaudited,
 * and a failure leaves nothing behind. The tenant row is written only while the owner is in no
 * tenant of the same name, checked inside that transaction, so two requests close together (a
 * double click) make one tenant; the other statements act only on the row this batch inserted.
 * Raw D1 statements: drizzle's insert-select must list every column of the table.
 */
export async function createTenantWithOwner(
  env: Pick<Env, "DB">,
  input: {
    name: string;
    alertEmails: string[];
    ownerUserId: string;
    auditDetails: Record<string, unknown>;
    /** The session (its id hash) that works in the new tenant from now on. */
    switchSession?: string;
  },
): Promise<NewTenantOutcome> {
  const id = newTenantId();
  const { DB } = env;
  const statements = [
    DB.prepare(
      `INSERT INTO tenants (id, name, alert_emails) SELECT ?3, ?2, ?4 WHERE NOT EXISTS (${SAME_NAME_OF_USER}) RETURNING id`,
    ).bind(input.ownerUserId, input.name, id, JSON.stringify(input.alertEmails)),
    DB.prepare("INSERT INTO memberships (user_id, tenant_id, role) SELECT ?1, id, 'owner' FROM tenants WHERE id = ?2").bind(
      input.ownerUserId,
      id,
    ),
    DB.prepare(
      `INSERT INTO audit_log (tenant_id, actor, action, target, details, created_at)
        SELECT id, ?1, 'tenant.create', id, ?2, ?3 FROM tenants WHERE id = ?4`,
    ).bind(input.ownerUserId, JSON.stringify(input.auditDetails), Date.now(), id),
  ];
  if (input.switchSession)
    statements.push(
      DB.prepare("UPDATE sessions SET tenant_id = ?1 WHERE id_hash = ?2 AND EXISTS (SELECT 1 FROM tenants WHERE id = ?1)").bind(
        id,
        input.switchSession,
      ),
    );
  const [inserted] = await DB.batch(statements);
  if (inserted?.results.length) return { created: true, tenantId: id };
  const same = await DB.prepare(SAME_NAME_OF_USER).bind(input.ownerUserId, input.name).first<{ name: string }>();
  return { created: false, sameName: same?.name ?? input.name };
}
