import { describe, expect, it } from "vitest";
import { MAX_SILENCE_HOURS } from "../../src/notifications/silence";
import { createWorld } from "../helpers/world";
import { signedIn } from "./ui-client";

describe("the silence alert's hours have one limit in the form and the API", () => {
  it("is two weeks, and both refuse one hour more", async () => {
    expect(MAX_SILENCE_HOURS).toBe(336);
    const world = await createWorld();
    const { browser } = await signedIn(world.tenantId);
    await browser.get("/notifications");
    expect(browser.lastHtml).toMatch(/id="silenceHours"[^>]* max="336"/);
    const form = (silenceHours: string) => ({
      alertEmails: "ops@example.test",
      reportSchedule: "off",
      silenceHours,
      mailConnectionId: "",
      retentionDays: "90",
    });

    expect((await browser.post("/notifications", form("337"))).status).toBe(400);
    expect(browser.lastHtml).toContain("at most 336 hours");
    expect((await world.api("/tenant", { method: "PATCH", body: { silenceHours: 337 } })).status).toBe(400);
    expect((await world.api("/tenant")).body.silenceHours).toBeNull();

    await browser.get("/notifications");
    expect((await browser.post("/notifications", form("336"))).status).toBe(303);
    expect((await world.api("/tenant")).body.silenceHours).toBe(336);
    const api = await world.api("/tenant", { method: "PATCH", body: { silenceHours: 300 } });
    expect(api.status).toBe(200);
    expect(api.body.silenceHours).toBe(300);
  });
});
