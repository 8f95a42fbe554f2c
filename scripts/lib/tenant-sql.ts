/**
 * What `npm run tenant:create` writes: a tenant, an invitation for its first owner, and the audit
 * entry, as SQL for `wrangler d1 execute`. The invitation is stored exactly as the UI stores one
 * (src/worker/routes/ui/auth/user-tokens.ts: the link's token kept only as its SHA-256, 7 days),
 * with no maker, so it stands on its own (no member's role can withdraw it). Imported by the script
 * (through tsx) and by a workerd test, which accepts the invitation through the real route.
 */
import { z } from "zod";
import { newTenantId, tenantNameSchema } from "../../src/db/tenants";
import { randomToken, sha256Hex } from "../../src/worker/routes/ui/auth/tokens";
import { INVITE_TTL_MS } from "../../src/worker/routes/ui/auth/user-tokens";

/** The audit log's actor for changes made from the command line: no user made them. */
export const OPERATOR_ACTOR = "operator";

const argsSchema = z.object({
  name: tenantNameSchema,
  // Lower-cased as the UI does when it invites and signs in, so the owner signs in with any case.
  owner: z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.email({ error: (i) => `“${String(i.input)}” is not an email address` })),
  baseUrl: z
    .url({
      protocol: /^https?$/,
      hostname: z.regexes.hostname,
      error: "an absolute http(s) address such as https://orderly.example.com",
    })
    .transform((value) => value.replace(/\/+$/, ""))
    .optional(),
  remote: z.boolean(),
});

export type CreateTenantArgs = z.infer<typeof argsSchema>;

const FLAG: Record<string, string> = { name: "--name", owner: "--owner", baseUrl: "--base-url", remote: "--remote" };

/** The command's options, checked; `problems` says what to fix, one line per option. */
export function checkCreateTenantArgs(
  raw: Record<string, unknown>,
): { ok: true; args: CreateTenantArgs } | { ok: false; problems: string[] } {
  const parsed = argsSchema.safeParse({ ...raw, name: raw.name ?? "", owner: raw.owner ?? "", remote: Boolean(raw.remote) });
  if (parsed.success) return { ok: true, args: parsed.data };
  return {
    ok: false,
    problems: parsed.error.issues.map((i) => `${FLAG[String(i.path[0])] ?? String(i.path[0])}: ${i.message}`),
  };
}

export interface TenantCreation {
  tenantId: string;
  /** The invitation link's secret: shown once, stored only as its hash. */
  token: string;
  /** Where the link leads, under the deployment's address. */
  invitePath: string;
  expiresAt: number;
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
  const token = randomToken();
  const tokenHash = await sha256Hex(token);
  const expiresAt = now + INVITE_TTL_MS;
  const details = JSON.stringify({ name: args.name, owner: args.owner, via: "npm run tenant:create" });
  const statements = [
    `INSERT INTO tenants (id, name, alert_emails) VALUES (${text(tenantId)}, ${text(args.name)}, '[]');`,
    `INSERT INTO user_tokens (token_hash, kind, email, tenant_id, role, created_by, created_at, expires_at) VALUES (${text(tokenHash)}, 'invite', ${text(args.owner)}, ${text(tenantId)}, 'owner', NULL, ${now}, ${expiresAt});`,
    `INSERT INTO audit_log (tenant_id, actor, action, target, details, created_at) VALUES (${text(tenantId)}, ${text(OPERATOR_ACTOR)}, 'tenant.create', ${text(tenantId)}, ${text(details)}, ${now});`,
  ];
  return { tenantId, token, invitePath: `/invite/${token}`, expiresAt, sql: statements.join("\n") };
}
