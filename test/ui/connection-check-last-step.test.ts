/**
 * "Test connection" on a target shows its last step, found through the tenant's transfers newest
 * first (steps have no index by tenant and time), within the last 30 days: the same step as the
 * old read of the steps by their own time, though a transfer's `updated_at` lags its steps' by up
 * to a minute.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { checkConnection, LAST_STEP_DAYS } from "../../src/worker/routes/ui/data/connection-check";
import { createWorld } from "../helpers/world";
import { transferWithSteps } from "./step-rows";

const DAY = 86_400_000;

/** The read before: the target's steps by their own time, newest first. */
const OLD_LAST_STEP = `SELECT transfer_id AS transferId FROM transfer_steps WHERE tenant_id = ?1 AND target_connection_id = ?2
  ORDER BY updated_at DESC LIMIT 1`;

const lastLine = async (tenantId: string, id: string) => ((await checkConnection(env, tenantId, id)) ?? []).at(-1);

describe("a target's last step on its check", () => {
  it("is the newest step by its own time, when the newest transfer holds an older one", async () => {
    const world = await createWorld();
    const now = Date.now();
    // A's step failed 31 s ago; its transfer's updated_at is 60 s old (it moves once a minute).
    const a = await transferWithSteps(world.tenantId, { updatedAt: now - 60_000 }, [
      { target: world.ledgerId, status: "failed", updatedAt: now - 31_000, errorReason: "order above limit" },
    ]);
    // B was updated after A, its step on the ledger completed 40 s ago.
    await transferWithSteps(world.tenantId, { updatedAt: now - 40_000, status: "completed" }, [
      { target: world.ledgerId, status: "completed", updatedAt: now - 40_000 },
    ]);
    // The newest transfer has no step on the ledger.
    await transferWithSteps(world.tenantId, { updatedAt: now - 5_000, status: "completed" }, [
      { target: world.economicId, status: "completed", updatedAt: now - 5_000 },
    ]);

    expect(await lastLine(world.tenantId, world.ledgerId)).toEqual({
      ok: false,
      text: `Its last step failed at ${new Date(now - 31_000).toISOString()}: order above limit.`,
    });
    const old = await env.DB.prepare(OLD_LAST_STEP).bind(world.tenantId, world.ledgerId).first<{ transferId: string }>();
    expect(old?.transferId).toBe(a);
    expect(await lastLine(world.tenantId, world.economicId)).toEqual({
      ok: true,
      text: `Its last step succeeded at ${new Date(now - 5_000).toISOString()}.`,
    });
  });

  it("says none ran in the last 30 days when its steps are older, or there are none", async () => {
    const world = await createWorld();
    const none = { ok: null, text: `No step has run against it in the last ${LAST_STEP_DAYS} days.` };
    expect(await lastLine(world.tenantId, world.ledgerId)).toEqual(none);
    const old = Date.now() - (LAST_STEP_DAYS + 10) * DAY;
    await transferWithSteps(world.tenantId, { updatedAt: old, status: "completed" }, [
      { target: world.ledgerId, status: "completed", updatedAt: old },
    ]);
    expect(await lastLine(world.tenantId, world.ledgerId)).toEqual(none);
  });
});
