/**
 * What `npm run tenant:create` writes, as SQL for `wrangler d1 execute`: a tenant, an invitation for
 * its first owner and the audit entry; with --tenant, a fresh owner invitation for an existing
 * tenant in place of the operator's unused ones; with --revoke --tenant, only their withdrawal. The
 * invitation is stored exactly as the UI stores one (src/worker/routes/ui/auth/user-tokens.ts: the
 * link's token kept only as its SHA-256, 7 days), with no maker (created_by NULL): that is how the
 * operator's invitations are told apart (a tenant with no owner yet has no one to withdraw them in
 * the UI). Imported by the script (through tsx) and by a workerd test, which runs the SQL in D1 and
 * accepts the invitations through the real route.
 */
import { z } from "zod";
import { newTenantId, tenantNameSchema } from "../../src/db/tenants";
import { randomToken, sha256Hex } from "../../src/worker/routes/ui/auth/tokens";
import { INVITE_TTL_MS } from "../../src/worker/routes/ui/auth/user-tokens";

/** The audit log's actor for changes made from the command line: no user made them. */
export const OPERATOR_ACTOR = "operator";

const ownerSchema = z
  .string()
  .trim()
  // Lower-cased as the UI does when it invites and signs in, so the owner signs in with any case.
  .toLowerCase()
  .pipe(z.email({ error: (i) => `“${String(i.input)}” is not an email address` }));

const baseUrlSchema = z
  .url({
    protocol: /^https?$/,
    hostname: z.regexes.hostname,
    error: "an absolute http(s) address such as https://orderly.example.com",
  })
  .transform((value) => value.replace(/\/+$/, ""))
  .optional();

/** An id as the command printed it (ten_…); older tenants may have other ids, so only its shape. */
const tenantIdSchema = z
  .string()
  .trim()
  .min(1, "give the shop's id, as tenant:create printed it (ten_…)")
  .max(100, "at most 100 characters")
  .regex(/^[^\p{Cc}\s]*$/u, "one id, without spaces");

const createSchema = z.object({ name: tenantNameSchema, owner: ownerSchema, baseUrl: baseUrlSchema, remote: z.boolean() });
const reissueSchema = z.object({ tenant: tenantIdSchema, owner: ownerSchema, baseUrl: baseUrlSchema, remote: z.boolean() });
const revokeSchema = z.object({ tenant: tenantIdSchema, remote: z.boolean() });

export type CreateTenantArgs = z.infer<typeof createSchema>;
export type ReissueArgs = z.infer<typeof reissueSchema>;
export type RevokeArgs = z.infer<typeof revokeSchema>;
export type TenantCommand =
  | ({ action: "create" } & CreateTenantArgs)
  | ({ action: "reissue" } & ReissueArgs)
  | ({ action: "revoke" } & RevokeArgs);

const FLAG: Record<string, string> = {
  name: "--name",
  owner: "--owner",
  baseUrl: "--base-url",
  remote: "--remote",
  tenant: "--tenant",
  revoke: "--revoke",
};

/** Options an action has no use for, refused rather than ignored: the person meant something by them. */
const UNUSED: Record<TenantCommand["action"], { keys: string[]; why: string }> = {
  create: { keys: [], why: "" },
  reissue: { keys: ["name"], why: "not with --tenant: the shop keeps its name" },
  revoke: { keys: ["name", "owner", "baseUrl"], why: "not with --revoke, which issues no invitation" },
};

function parseAs(action: TenantCommand["action"], raw: Record<string, unknown>, remote: boolean) {
  if (action === "create") return createSchema.safeParse({ ...raw, name: raw.name ?? "", owner: raw.owner ?? "", remote });
  if (action === "reissue")
    return reissueSchema.safeParse({ tenant: raw.tenant, owner: raw.owner ?? "", baseUrl: raw.baseUrl, remote });
  return revokeSchema.safeParse({ tenant: raw.tenant, remote });
}

/**
 * The command's options, checked; `problems` says what to fix, one line per option. Without
 * --tenant it creates a shop; with --tenant it re-issues that shop's owner invitation; with
 * --revoke --tenant it only withdraws the operator's unused ones.
 */
export function checkCreateTenantArgs(
  raw: Record<string, unknown>,
): { ok: true; args: TenantCommand } | { ok: false; problems: string[] } {
  const action = raw.revoke ? "revoke" : raw.tenant === undefined ? "create" : "reissue";
  if (action === "revoke" && raw.tenant === undefined)
    return { ok: false, problems: ["--revoke: needs --tenant <id>, the shop whose owner invitations to withdraw"] };
  const { keys, why } = UNUSED[action];
  const problems = keys.filter((key) => raw[key] !== undefined).map((key) => `${FLAG[key]}: ${why}`);
  const parsed = parseAs(action, raw, Boolean(raw.remote));
  if (!parsed.success)
    problems.push(...parsed.error.issues.map((i) => `${FLAG[String(i.path[0])] ?? String(i.path[0])}: ${i.message}`));
  if (!parsed.success || problems.length) return { ok: false, problems };
  return { ok: true, args: { action, ...parsed.data } as TenantCommand };
}

export interface OwnerInvite {
  /** The invitation link's secret: shown once, stored only as its hash. */
  token: string;
  /** Where the link leads, under the deployment's address. */
  invitePath: string;
  expiresAt: number;
}

export interface TenantCreation extends OwnerInvite {
  tenantId: string;
  /** One statement a line, for `wrangler d1 execute --command`. */
  sql: string;
}

/** A SQLite string literal; the name allows no control characters, so one line each. */
const text = (value: string) => `'${value.replaceAll("'", "''")}'`;

export async function tenantCreationSql(
  args: Pick<CreateTenantArgs, "name" | "owner">,
  now = Date.now(),
): Promise<TenantCreation> {
  const tenantId = newTenantId();
  const { invite, insert } = await ownerInvite(tenantId, args.owner, now);
  const details = JSON.stringify({ name: args.name, owner: args.owner, via: VIA });
  const statements = [
    `INSERT INTO tenants (id, name, alert_emails) VALUES (${text(tenantId)}, ${text(args.name)}, '[]');`,
    `${insert};`,
    `INSERT INTO audit_log (tenant_id, actor, action, target, details, created_at) VALUES (${text(tenantId)}, ${text(OPERATOR_ACTOR)}, 'tenant.create', ${text(tenantId)}, ${text(details)}, ${now});`,
  ];
  return { tenantId, ...invite, sql: statements.join("\n") };
}

const VIA = "npm run tenant:create";

/** A fresh owner invitation to the tenant: its link, and the INSERT (SELECT) that stores it. */
async function ownerInvite(tenantId: string, owner: string, now: number) {
  const token = randomToken();
  const tokenHash = await sha256Hex(token);
  const expiresAt = now + INVITE_TTL_MS;
  const insert = `INSERT INTO user_tokens (token_hash, kind, email, tenant_id, role, created_by, created_at, expires_at) SELECT ${text(tokenHash)}, 'invite', ${text(owner)}, ${text(tenantId)}, 'owner', NULL, ${now}, ${expiresAt}`;
  return { invite: { token, invitePath: `/invite/${token}`, expiresAt }, insert };
}

export interface OwnerInviteChange {
  /** The new invitation; none for --revoke. */
  invite?: OwnerInvite;
  /**
   * One statement a line, for `wrangler d1 execute --json --command`, which runs them as one batch
   * (one transaction). The first reads the tenant and the invitations about to be withdrawn (no row:
   * no such tenant); every write after it is guarded by the tenant existing, so an unknown id changes
   * nothing. `readOwnerInviteReport` reads that first answer.
   */
  sql: string;
}

/**
 * The operator's unused owner invitations to the tenant (no maker: created_by NULL), which a
 * re-issue replaces and --revoke withdraws; those members made in the UI stay with their makers.
 */
function operatorInvitesOf(tenantId: string) {
  return `user_tokens WHERE tenant_id = ${text(tenantId)} AND kind = 'invite' AND role = 'owner' AND created_by IS NULL AND used_at IS NULL`;
}

/** --tenant (with an owner: a fresh invitation in place of the earlier ones) or --revoke --tenant. */
export async function ownerInviteSql(args: { tenant: string; owner?: string }, now = Date.now()): Promise<OwnerInviteChange> {
  const tenant = text(args.tenant);
  const exists = `EXISTS (SELECT 1 FROM tenants WHERE id = ${tenant})`;
  const pending = operatorInvitesOf(args.tenant);
  const audit = (action: string, target: string, details: Record<string, unknown>) =>
    `INSERT INTO audit_log (tenant_id, actor, action, target, details, created_at) SELECT ${tenant}, ${text(OPERATOR_ACTOR)}, '${action}', ${target}, ${text(JSON.stringify(details))}, ${now}`;
  const statements = [
    `SELECT name AS tenant_name, (SELECT json_group_array(email) FROM ${pending}) AS withdrawn FROM tenants WHERE id = ${tenant};`,
    // One entry per invitation withdrawn, as the People page writes them.
    `${audit("member.invite_withdraw", "email", { via: VIA })} FROM ${pending} AND ${exists};`,
    `DELETE FROM ${pending} AND ${exists};`,
  ];
  if (args.owner === undefined) return { sql: statements.join("\n") };
  const { invite, insert } = await ownerInvite(args.tenant, args.owner, now);
  statements.push(
    `${insert} WHERE ${exists};`,
    `${audit("member.invite", text(args.owner), { role: "owner", via: VIA })} WHERE ${exists};`,
  );
  return { invite, sql: statements.join("\n") };
}

const reportSchema = z
  .array(z.object({ results: z.array(z.unknown()) }))
  .min(1)
  .transform(([first]) => first?.results[0]);

const reportRowSchema = z.object({
  tenant_name: z.string(),
  withdrawn: z
    .string()
    .transform((value) => JSON.parse(value) as unknown)
    .pipe(z.array(z.string())),
});

export type OwnerInviteReport = { found: false } | { found: true; tenantName: string; withdrawn: string[] };

/**
 * What `ownerInviteSql` found, from the answers of `wrangler d1 execute --json` (one per statement,
 * as D1's batch gives them): the tenant's name and the addresses of the invitations withdrawn, or
 * that no tenant has the id (and so nothing was changed).
 */
export function readOwnerInviteReport(answers: unknown): OwnerInviteReport {
  const first = reportSchema.safeParse(answers);
  if (!first.success) throw new Error(`wrangler's answer has no result for the first statement (${first.error.message})`);
  if (first.data === undefined) return { found: false };
  const row = reportRowSchema.safeParse(first.data);
  if (!row.success) throw new Error(`wrangler's answer to the first statement is not the report (${row.error.message})`);
  return { found: true, tenantName: row.data.tenant_name, withdrawn: row.data.withdrawn };
}
