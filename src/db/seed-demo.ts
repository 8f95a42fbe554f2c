/**
 * The demo tenant that `npm start` creates: a Shopify-style source, the built-in sandbox ledger
 * as target, and a flow that books every paid order as an invoice. Running it again keeps what
 * exists and issues a fresh API token (tokens are stored hashed and cannot be shown twice).
 */
import { and, eq } from "drizzle-orm";
import { hashApiToken, newApiToken } from "../worker/routes/api/auth";
import { hashPassword } from "../worker/routes/ui/auth/password";
import { database } from "./client";
import { encryptJson, encryptSecret } from "./credentials";
import { apiTokens, connections, flows, memberships, tenants, users } from "./schema";

export const DEMO = {
  tenantId: "ten_demo",
  shopId: "con_demo_shop",
  ledgerId: "con_demo_ledger",
  flowId: "flw_demo_paid_to_ledger",
  userId: "usr_demo",
  userEmail: "demo@orderly.test",
} as const;

export interface DemoSeed {
  tenantId: string;
  apiToken: string;
  shopConnectionId: string;
  ledgerConnectionId: string;
  flowId: string;
  webhookSecret: string;
  /** The demo user who signs in to the UI (owner of the demo tenant). */
  userEmail?: string;
}

/** Seeds the demo tenant; with a password, also the UI user demo@orderly.test (its password is reset to it). */
export async function seedDemoTenant(env: Env, webhookSecret: string, demoPassword?: string): Promise<DemoSeed> {
  const db = database(env);
  const now = Date.now();
  await db
    .insert(tenants)
    .values({ id: DEMO.tenantId, name: "Demo shop", alertEmails: ["alerts@demo-shop.example"] })
    .onConflictDoNothing();
  const shop = await db
    .select()
    .from(connections)
    .where(and(eq(connections.id, DEMO.shopId), eq(connections.tenantId, DEMO.tenantId)))
    .get();
  if (!shop) {
    await db.insert(connections).values([
      {
        id: DEMO.shopId,
        tenantId: DEMO.tenantId,
        connector: "shopify",
        name: "Demo Shopify shop",
        settings: {},
        credentials: await encryptJson(env, {}),
        webhookSecret: await encryptSecret(env, webhookSecret),
        createdAt: now,
        updatedAt: now,
      },
      {
        id: DEMO.ledgerId,
        tenantId: DEMO.tenantId,
        connector: "sandbox-ledger",
        name: "Sandbox ledger",
        settings: {},
        credentials: await encryptJson(env, {}),
        webhookSecret: null,
        createdAt: now,
        updatedAt: now,
      },
    ]);
    await db.insert(flows).values({
      id: DEMO.flowId,
      tenantId: DEMO.tenantId,
      name: "Paid orders become booked invoices",
      sourceConnectionId: DEMO.shopId,
      triggerStage: "paid",
      steps: [{ target: DEMO.ledgerId, action: "createInvoice", settings: { invoiceState: "booked", customerMatch: "email" } }],
      createdAt: now,
      updatedAt: now,
    });
  } else if (shop.webhookSecret) {
    await db
      .update(connections)
      .set({ webhookSecret: await encryptSecret(env, webhookSecret), updatedAt: now })
      .where(eq(connections.id, DEMO.shopId));
  }
  if (demoPassword) {
    const passwordHash = await hashPassword(demoPassword);
    await db
      .insert(users)
      .values({ id: DEMO.userId, email: DEMO.userEmail, name: "Demo owner", passwordHash })
      .onConflictDoUpdate({ target: users.email, set: { passwordHash } });
    const user = await db.select({ id: users.id }).from(users).where(eq(users.email, DEMO.userEmail)).get();
    if (user)
      await db.insert(memberships).values({ userId: user.id, tenantId: DEMO.tenantId, role: "owner" }).onConflictDoNothing();
  }
  const apiToken = newApiToken();
  await db.insert(apiTokens).values({
    id: `tok_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`,
    tenantId: DEMO.tenantId,
    name: "demo (npm start)",
    tokenHash: await hashApiToken(apiToken),
  });
  return {
    tenantId: DEMO.tenantId,
    apiToken,
    shopConnectionId: DEMO.shopId,
    ledgerConnectionId: DEMO.ledgerId,
    flowId: DEMO.flowId,
    webhookSecret,
    ...(demoPassword ? { userEmail: DEMO.userEmail } : {}),
  };
}
