/**
 * The webhook-out connection and step settings: the endpoint obeys the outbound rule of every base
 * URL (https on a public host unless the operator allows private ones), static headers cannot
 * override what Orderly signs or frames, and secrets have the shape a header can carry.
 */
import { env } from "cloudflare:test";
import { withEnv } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  endpointProblem,
  sendOrderSettings,
  webhookOutConnector,
  webhookOutCredentials,
  webhookOutSettings,
} from "../../../src/connectors/webhook-out";
import { fieldsFor } from "../../../src/worker/routes/ui/forms/schema-fields";

const URL_OK = "https://wms.example.com/orderly/orders";

function issues(result: { success: boolean; error?: { issues: Array<{ path: PropertyKey[]; message: string }> } }): string[] {
  return (result.error?.issues ?? []).map((i) => `${i.path.join(".")}: ${i.message}`);
}

describe("webhook-out connection settings", () => {
  it("takes an https endpoint with defaults for headers and timeout", () => {
    expect(webhookOutSettings.parse({ baseUrl: URL_OK })).toEqual({ baseUrl: URL_OK, headers: {}, timeoutSeconds: 30 });
  });

  it("refuses http://, a private host and a query, unless the operator allows private URLs (mocks only)", () => {
    const http = webhookOutSettings.safeParse({ baseUrl: "http://wms.example.com/orders" });
    expect(issues(http)).toEqual([
      "baseUrl: must be an https URL of the vendor's API, such as https://wms.example.com/orderly/orders (http is not allowed)",
    ]);
    expect(issues(webhookOutSettings.safeParse({ baseUrl: "https://10.0.0.5/orders" }))[0]).toContain("not an IP address");
    expect(issues(webhookOutSettings.safeParse({ baseUrl: "https://wms.example.com/orders?key=1" }))[0]).toContain(
      "must not have a query",
    );
    expect(issues(webhookOutSettings.safeParse({}))).toHaveLength(1);

    const local = { baseUrl: "http://127.0.0.1:9999/orders" };
    expect(webhookOutSettings.safeParse(local).success).toBe(false);
    const allowed = withEnv({ ...env, ALLOW_PRIVATE_BASE_URLS: "true" }, () => webhookOutSettings.safeParse(local));
    expect(allowed).toMatchObject({ success: true, data: local });
    expect(endpointProblem("http://127.0.0.1:9999/orders", { allowPrivate: true })).toBeNull();
  });

  it("refuses static headers that would override Orderly's own, and malformed or too many ones", () => {
    const headers = (h: Record<string, string>) => issues(webhookOutSettings.safeParse({ baseUrl: URL_OK, headers: h }));
    expect(headers({ Authorization: "Bearer x" })).toEqual([
      'headers.Authorization: "Authorization" cannot be set here: put the token in the connection\'s Bearer token credential, which is encrypted and never shown again',
    ]);
    for (const name of ["Host", "Content-Length", "content-type", "Idempotency-Key", "X-Orderly-Signature"])
      expect(headers({ [name]: "x" }), name).toEqual([
        `headers.${name}: "${name}" is set by Orderly itself and cannot be overridden`,
      ]);
    expect(headers({ "Bad Name": "x" })[0]).toContain("is not a header name");
    expect(headers({ "X-Split": "a\r\nHost: evil" })).toEqual([
      'headers.X-Split: the value of "X-Split" contains a line break or control character',
    ]);
    expect(headers({ "X-Big": "v".repeat(1025) })[0]).toContain("longer than 1024 characters");
    expect(headers({ "X-Id": "1", "x-id": "2" })).toEqual(['headers.x-id: "x-id" is given twice (header names ignore case)']);
    const eleven = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`X-H${i}`, "v"]));
    expect(headers(eleven)).toEqual(["headers: at most 10 extra headers (11 given)"]);
    expect(headers({ "X-Warehouse-Id": "42" })).toEqual([]);
  });

  it("keeps the timeout within Orderly's outbound deadline", () => {
    expect(webhookOutSettings.safeParse({ baseUrl: URL_OK, timeoutSeconds: 31 }).success).toBe(false);
    expect(webhookOutSettings.safeParse({ baseUrl: URL_OK, timeoutSeconds: 0 }).success).toBe(false);
    expect(webhookOutSettings.parse({ baseUrl: URL_OK, timeoutSeconds: 5 }).timeoutSeconds).toBe(5);
  });

  it("gives the settings form an endpoint, a headers record and a timeout", () => {
    const fields = fieldsFor(webhookOutConnector.settings, "settings");
    expect(fields.map((f) => [f.key, f.kind])).toEqual([
      ["baseUrl", "string"],
      ["headers", "record"],
      ["timeoutSeconds", "number"],
    ]);
  });
});

describe("webhook-out credentials and step settings", () => {
  it("needs a signing secret of at least 24 characters; the bearer token is optional and one line", () => {
    expect(webhookOutCredentials.safeParse({ signingSecret: "short" }).success).toBe(false);
    expect(webhookOutCredentials.parse({ signingSecret: "s".repeat(32) })).toEqual({ signingSecret: "s".repeat(32) });
    expect(webhookOutCredentials.safeParse({ signingSecret: "s".repeat(32), bearerToken: "a\nb" }).success).toBe(false);
  });

  it("sends the order by default; the event is a short header-safe name", () => {
    expect(sendOrderSettings.parse({})).toEqual({ payload: "order" });
    expect(sendOrderSettings.parse({ payload: "pickList", event: "order.approved" })).toEqual({
      payload: "pickList",
      event: "order.approved",
    });
    expect(sendOrderSettings.safeParse({ payload: "invoice" }).success).toBe(false);
    expect(sendOrderSettings.safeParse({ event: "two words" }).success).toBe(false);
    expect(sendOrderSettings.safeParse({ event: "e".repeat(101) }).success).toBe(false);
  });

  it("describes itself as JSON Schema, as /api/v1/connectors lists it", () => {
    const credentials = z.toJSONSchema(webhookOutConnector.credentials, { io: "input" });
    expect(credentials).toMatchObject({ required: ["signingSecret"] });
    expect(z.toJSONSchema(webhookOutConnector.settings, { io: "input" })).toMatchObject({ required: ["baseUrl"] });
    const action = webhookOutConnector.actions?.sendOrder;
    expect(z.toJSONSchema(action?.settings ?? z.never(), { io: "input" })).toMatchObject({
      properties: { payload: { enum: ["order", "pickList"], default: "order" } },
    });
  });
});
