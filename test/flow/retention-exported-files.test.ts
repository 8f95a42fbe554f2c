/**
 * Retention of files exportFile wrote (names, addresses, phones, e-mails): past the tenant's
 * retention each is overwritten with an empty body that keeps its record, so a later run of the
 * same step adopts the record instead of writing a second pick list. Bounded per run.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { exportFile } from "../../src/connectors/files/files.export";
import { expireFiles } from "../../src/connectors/files/files.retention";
import { filesConnectionSettings } from "../../src/connectors/files/files.settings";
import { listFiles, readFile } from "../../src/connectors/files/files.store";
import { database } from "../../src/db/client";
import { tenants } from "../../src/db/schema";
import { type CanonicalOrder, orderSchema } from "../../src/domain/order";
import { applyRetention } from "../../src/worker/retention";
import { actionContext } from "../helpers/action-context";

const DAY = 86_400_000;

async function tenant(retentionDays: number): Promise<string> {
  const id = `ten_${crypto.randomUUID().slice(0, 8)}`;
  await database(env).insert(tenants).values({ id, name: id, retentionDays });
  return id;
}

function order(orderNumber = "#1001"): CanonicalOrder {
  return orderSchema.parse({
    source: { connector: "shopify", orderId: "9001", orderNumber, version: 1, createdAt: "2026-03-02T10:00:00Z" },
    stage: "paid",
    currency: "DKK",
    pricesIncludeTax: true,
    customer: { email: "ane@example.dk", phone: "+45 12 34 56 78" },
    shippingAddress: { name: "Ane Lund", line1: "Vej 1", postcode: "1000", city: "København", country: "DK" },
    lines: [{ id: "l1", sku: "TS-1", title: "T-shirt", quantity: 1, unitPrice: 10000, discount: 0, tax: 2000 }],
    shipping: [],
    discounts: [],
    payments: [],
    totals: { total: 10000, tax: 2000, discounts: 0, shipping: 0 },
  });
}

function write(tenantId: string, o: CanonicalOrder, reference = `orderly-${"ef".repeat(16)}-0`) {
  const { ctx } = actionContext(exportFile, {
    connection: { id: "con_files", tenantId, settings: filesConnectionSettings.parse({}), credentials: {} },
    reference,
  });
  return exportFile.run(ctx, { order: o });
}

describe("retention of exported files", () => {
  it("empties an expired file but keeps its record; a re-run adopts it; the list shows it deleted, with no download", async () => {
    const short = await tenant(7);
    const long = await tenant(90);
    const expiring = await write(short, order());
    const kept = await write(long, order());

    await applyRetention(env, Date.now() + 8 * DAY);

    const tomb = await env.BLOBS.head(expiring.externalId);
    expect(tomb?.size).toBe(0);
    expect(tomb?.customMetadata).toMatchObject({
      orderNumber: "#1001",
      expiredAt: expect.any(String),
      writtenAt: expect.any(String),
    });
    expect((await env.BLOBS.head(kept.externalId))?.size).toBeGreaterThan(0);

    // An update renumbered the order and re-ran the step months later: no second pick list.
    const again = await write(short, order("WC-42"));
    expect(again).toMatchObject({ externalId: expiring.externalId, created: false, outputs: { expiredAt: expect.any(String) } });
    expect((await env.BLOBS.list({ prefix: `files/${short}/` })).objects).toHaveLength(1);

    const [listed] = (await listFiles(env, short, { limit: 10 })).files;
    expect(listed).toMatchObject({ key: expiring.externalId, expiredAt: expect.any(String), orderNumber: "#1001" });
    expect(listed?.uploadedAt).toBe(tomb?.customMetadata?.writtenAt);
    await expect(readFile(env, short, expiring.externalId)).rejects.toMatchObject({ code: "file_expired" });

    // A second run leaves the record as it is.
    await applyRetention(env, Date.now() + 9 * DAY);
    expect((await env.BLOBS.head(expiring.externalId))?.customMetadata?.expiredAt).toBe(tomb?.customMetadata?.expiredAt);
  });

  it("overwrites at most the files it is allowed per call, and goes on after the last it looked at", async () => {
    const tenantId = await tenant(7);
    for (let i = 0; i < 3; i++) await write(tenantId, order(`#${i}`), `orderly-${"ab".repeat(16)}-${i}`);
    const now = Date.now() + 8 * DAY;
    const first = await expireFiles(env, tenantId, { cutoff: now - 7 * DAY, now, after: "", maxWrites: 2 });
    expect(first.expired).toBe(2);
    expect(first.after).not.toBe("");
    const second = await expireFiles(env, tenantId, { cutoff: now - 7 * DAY, now, after: first.after, maxWrites: 2 });
    expect(second).toEqual({ expired: 1, after: "" });
    const sizes = (await env.BLOBS.list({ prefix: `files/${tenantId}/` })).objects.map((o) => o.size);
    expect(sizes).toEqual([0, 0, 0]);
  });
});
