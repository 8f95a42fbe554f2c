import { describe, expect, it } from "vitest";
import { z } from "zod";
import type { Connector } from "../../src/connectors/contract";
import { postmarkConnector } from "../../src/connectors/postmark";
import { resendConnector } from "../../src/connectors/resend";

// The registry holds `readonly Connector[]`: both must fit it as they are.
const MAIL: readonly Connector[] = [resendConnector, postmarkConnector];

describe("the mail connectors", () => {
  it("are mail connectors with no source and no actions, every field described for the connection form", () => {
    for (const connector of MAIL) {
      expect(connector.category).toBe("mail");
      expect(connector.source).toBeUndefined();
      expect(connector.actions).toBeUndefined();
      for (const schema of [connector.settings, connector.credentials]) {
        const json = z.toJSONSchema(schema, { io: "input" }) as { properties: Record<string, { description?: string }> };
        for (const [field, property] of Object.entries(json.properties))
          expect(property.description, `${connector.id}.${field}`).toBeTruthy();
      }
    }
  });

  it("default to the vendors' API addresses and Postmark's outbound stream", () => {
    expect(resendConnector.settings.parse({ from: "Shop <shop@lund.dk>" })).toEqual({
      baseUrl: "https://api.resend.com",
      from: "Shop <shop@lund.dk>",
    });
    expect(postmarkConnector.settings.parse({ from: "shop@lund.dk" })).toEqual({
      baseUrl: "https://api.postmarkapp.com",
      from: "shop@lund.dk",
      messageStream: "outbound",
    });
  });

  it("refuse a sender that is not an address and empty credentials", () => {
    expect(resendConnector.settings.safeParse({ from: "shop" }).success).toBe(false);
    expect(postmarkConnector.settings.safeParse({ from: "Shop <shop>" }).success).toBe(false);
    expect(resendConnector.credentials.safeParse({ apiKey: " " }).success).toBe(false);
    expect(postmarkConnector.credentials.safeParse({}).success).toBe(false);
  });
});
