/** The audit log: who changed which setting through the UI, and when. */
import { database } from "../../../db/client";
import { auditLog } from "../../../db/schema";
import type { UiSession } from "./ui-env";

export async function audit(
  env: Env,
  session: Pick<UiSession, "tenantId" | "userId">,
  action: string,
  target: string | null,
  details: Record<string, unknown> = {},
): Promise<void> {
  await database(env)
    .insert(auditLog)
    .values({ tenantId: session.tenantId, actor: session.userId, action, target, details, createdAt: Date.now() });
}
