/**
 * Writes an order's transfers and steps into the D1 transfer log the way the order's object
 * projects them, for connector tests that run an action directly (without the queue).
 */
import { env } from "cloudflare:test";

export interface LoggedTransfer {
  id: string;
  stage: string;
  flowId?: string;
  status?: string;
  /** Default: the order's source connection and id given to `logTransfers`. */
  sourceConnectionId?: string;
  orderId?: string;
  createdAt?: number;
  steps: Array<{ target: string; action: string; status: string; attempts?: number; output?: Record<string, unknown> }>;
}

export async function logTransfers(
  order: { tenantId: string; sourceConnectionId: string; orderId: string },
  list: LoggedTransfer[],
): Promise<void> {
  const statements: D1PreparedStatement[] = [];
  list.forEach((t, n) => {
    const at = t.createdAt ?? 1_700_000_000_000 + n * 1000;
    statements.push(
      env.DB.prepare(
        `INSERT INTO transfers (id, tenant_id, flow_id, source_connection_id, order_id, order_number, stage, occurrence, status,
           step_count, steps_done, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, '#1001', ?, '', ?, ?, 0, ?, ?)`,
      ).bind(
        t.id,
        order.tenantId,
        t.flowId ?? `flow_${t.stage}`,
        t.sourceConnectionId ?? order.sourceConnectionId,
        t.orderId ?? order.orderId,
        t.stage,
        t.status ?? "failed",
        t.steps.length,
        at,
        at,
      ),
    );
    t.steps.forEach((s, index) => {
      statements.push(
        env.DB.prepare(
          `INSERT INTO transfer_steps (transfer_id, step_index, tenant_id, target_connection_id, action, status, attempts, output, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        ).bind(
          t.id,
          index,
          order.tenantId,
          s.target,
          s.action,
          s.status,
          s.attempts ?? (s.status === "pending" ? 0 : 1),
          s.output ? JSON.stringify(s.output) : null,
          at,
        ),
      );
    });
  });
  await env.DB.batch(statements);
}

/** A fresh transfer id shaped as the order's object derives them (32 hex digits); the log outlives a test. */
export function transferIdForTest(): string {
  return crypto.randomUUID().replaceAll("-", "");
}
