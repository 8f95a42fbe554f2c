import { describe, expect, it } from "vitest";
import { createWorld } from "../helpers/world";
import { signedIn } from "./ui-client";

/** The value attribute of the input with this id on the last page. */
function inputValue(html: string, id: string): string | undefined {
  return new RegExp(`<input id="${id}"[^>]*? value="([^"]*)"`).exec(html)?.[1];
}

describe("a refused connection edit shows the form as it was typed", () => {
  it("keeps the typed name, switch and settings, and never echoes typed credentials", async () => {
    const world = await createWorld();
    const { browser } = await signedIn(world.tenantId);
    await browser.get(`/connections/${world.economicId}`);
    // A new address with only one of the credentials: the API refuses it.
    const refused = await browser.post(`/connections/${world.economicId}`, {
      name: "Books renamed",
      "settings.baseUrl": "https://books.example",
      "credentials.appSecretToken": "typed-secret-1",
    });
    expect(refused.status).toBe(400);
    const html = browser.lastHtml;
    expect(html).toMatch(/<div class="flash error" role="alert">.*agreementGrantToken/);
    expect(inputValue(html, "name")).toBe("Books renamed");
    expect(inputValue(html, "f-settings-baseUrl")).toBe("https://books.example");
    // "Enabled" was left unticked in the submitted form, so it stays unticked.
    expect(html).toMatch(/<input id="enabled" name="enabled" type="checkbox"(?! checked)/);
    expect(html).not.toContain("typed-secret-1");
    expect(inputValue(html, "f-credentials-appSecretToken")).toBe("");
    expect(html).toContain("type them again before you save");
    // Nothing was stored.
    expect((await world.api(`/connections/${world.economicId}`)).body).toMatchObject({ name: "e-conomic", enabled: true });
  });

  it("shows a value the settings schema refused exactly as typed, with the API's message", async () => {
    const world = await createWorld();
    const { browser } = await signedIn(world.tenantId);
    await browser.get(`/connections/${world.ledgerId}`);
    const refused = await browser.post(`/connections/${world.ledgerId}`, {
      name: "Ledger 2",
      enabled: "on",
      "settings.rejectOrdersAbove": "-5",
    });
    expect(refused.status).toBe(400);
    expect(browser.lastHtml).toContain("rejectOrdersAbove");
    expect(inputValue(browser.lastHtml, "name")).toBe("Ledger 2");
    expect(inputValue(browser.lastHtml, "f-settings-rejectOrdersAbove")).toBe("-5");
    expect(browser.lastHtml).toMatch(/<input id="enabled" name="enabled" type="checkbox" checked/);
    // No secret was typed, so there is nothing to ask for again.
    expect(browser.lastHtml).not.toContain("type them again");
  });
});
