/** Tenants, connections and transfers written straight to D1, so alert and report tests control every time. */
import { env } from "cloudflare:test";
import { asc, eq } from "drizzle-orm";
import { database } from "../../src/db/client";
import { connections, mailOutbox, type TransferStatus, tenants, transferSteps, transfers } from "../../src/db/schema";

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
/** A fake "now" a month back, on the hour: far from any transfer a concurrently running test makes. */
export const T0 = Math.floor((Date.now() - 30 * DAY) / HOUR) * HOUR;

export interface Seeded {
  tenantId: string;
  shop: string;
  shop2: string;
  ledger: string;
  economic: string;
}

export async function seedTenant(values: Partial<typeof tenants.$inferInsert> = {}): Promise<Seeded> {
  const tenantId = `ten_${crypto.randomUUID().slice(0, 8)}`;
  const db = database(env);
  await db
    .insert(tenants)
    .values({ id: tenantId, name: `Test ${tenantId}`, alertEmails: [`ops@${tenantId.replace("_", "-")}.example`], ...values });
  const ids = { shop: "Shop", shop2: "Second shop", ledger: "Ledger", economic: "e-conomic" };
  const out = { tenantId } as Seeded;
  for (const [key, name] of Object.entries(ids) as Array<[keyof typeof ids, string]>) {
    const id = `con_${key}_${tenantId}`;
    await db.insert(connections).values({ id, tenantId, connector: "sandbox-ledger", name, settings: {}, credentials: "x" });
    out[key] = id;
  }
  return out;
}

export interface TransferSeed {
  source: string;
  /** One entry per step: its target and status. */
  steps: Array<{ target: string; status: TransferStatus; output?: Record<string, unknown> }>;
  status: TransferStatus;
  createdAt: number;
  updatedAt?: number;
  orderNumber?: string;
  errorReason?: string;
}

let seq = 0;

export async function seedTransfer(tenantId: string, t: TransferSeed): Promise<string> {
  seq += 1;
  const id = `tr_${tenantId}_${seq}`;
  const updatedAt = t.updatedAt ?? t.createdAt;
  const db = database(env);
  await db.batch([
    db.insert(transfers).values({
      id,
      tenantId,
      flowId: "flow_1",
      sourceConnectionId: t.source,
      orderId: String(1000 + seq),
      orderNumber: t.orderNumber ?? `#${1000 + seq}`,
      stage: "paid",
      status: t.status,
      stepCount: t.steps.length,
      stepsDone: t.steps.filter((s) => s.status === "completed").length,
      errorReason: t.errorReason ?? (t.status === "failed" ? "The ledger rejects it." : null),
      createdAt: t.createdAt,
      updatedAt,
      completedAt: t.status === "completed" ? updatedAt : null,
    }),
    ...t.steps.map((s, stepIndex) =>
      db.insert(transferSteps).values({
        transferId: id,
        stepIndex,
        tenantId,
        targetConnectionId: s.target,
        action: "createInvoice",
        status: s.status,
        output: s.output ?? null,
        updatedAt,
      }),
    ),
  ]);
  return id;
}

/** The tenant's emails in the dev outbox, oldest first. */
export async function outbox(tenantId: string) {
  return database(env).select().from(mailOutbox).where(eq(mailOutbox.tenantId, tenantId)).orderBy(asc(mailOutbox.createdAt));
}
