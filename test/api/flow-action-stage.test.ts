/**
 * An action that needs what only one stage's flows carry (a credit note and a refund payment need
 * the refund) is refused when a flow of another stage is saved with it: before, the save went
 * through and every order of that flow failed its step at run time.
 */
import { env } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { database } from "../../src/db/client";
import { flows } from "../../src/db/schema";
import { createWorld } from "../helpers/world";

describe("a flow step's action and the flow's stage", () => {
  it("refuses createCreditNote or registerRefund outside a refunded flow, naming the step and the stage", async () => {
    const world = await createWorld();
    for (const [target, action] of [
      [world.ledgerId, "createCreditNote"],
      [world.economicId, "createCreditNote"],
      [world.economicId, "registerRefund"],
    ] as const) {
      const res = await world.api("/flows", {
        body: { name: "Paid", source: world.shopId, stage: "paid", steps: [{ target, action, settings: {} }] },
      });
      expect(res.status, `${action} on ${target}`).toBe(400);
      expect(res.body.error.code).toBe("flow_action_stage");
      expect(res.body.error.message).toBe(
        `Step 1: ${action} runs only in flows on the refunded stage (it needs what only they carry, such as the refund); this flow is on "paid". Put it in a refunded flow.`,
      );
    }
    // In a refunded flow it is taken; moved to another stage, it is refused.
    const id = await world.flow("refunded", [{ target: world.ledgerId, action: "createCreditNote", settings: {} }]);
    const moved = await world.api(`/flows/${id}`, { method: "PATCH", body: { stage: "paid" } });
    expect(moved.status).toBe(400);
    expect(moved.body.error.code).toBe("flow_action_stage");
  });

  it("still lets a flow saved on the wrong stage before this check be renamed or switched off", async () => {
    const world = await createWorld();
    const id = await world.flow("refunded", [{ target: world.ledgerId, action: "createCreditNote", settings: {} }]);
    await database(env).update(flows).set({ triggerStage: "paid" }).where(eq(flows.id, id));
    expect((await world.api(`/flows/${id}`, { method: "PATCH", body: { name: "Old" } })).status).toBe(200);
    expect((await world.api(`/flows/${id}`, { method: "PATCH", body: { enabled: false } })).status).toBe(200);
    expect((await world.api(`/flows/${id}`, { method: "PATCH", body: { enabled: true } })).status).toBe(400);
  });
});
