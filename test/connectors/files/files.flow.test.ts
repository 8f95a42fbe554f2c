/**
 * A paid-stage flow with a files step, end to end from a signed Shopify webhook: the pick list is
 * written once, listed and downloaded through /api/v1/files with an API token, adopted when the
 * transfer runs again, and never readable with another tenant's token.
 */
import { env, SELF } from "cloudflare:test";
import Papa from "papaparse";
import { describe, expect, it } from "vitest";
import { BASE, createWorld, eventually, settledTransfers, shopifyOrder, type World } from "../../helpers/world";

async function filesConnection(world: World): Promise<string> {
  const res = await world.api("/connections", {
    body: { connector: "files", name: "Warehouse", settings: { csvDelimiter: ",", filenamePrefix: "pick-" } },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id as string;
}

function download(key: string, token: string): Promise<Response> {
  return SELF.fetch(`${BASE}/api/v1/files/${encodeURIComponent(key)}`, { headers: { authorization: `Bearer ${token}` } });
}

describe("a files step on the paid stage", () => {
  it("writes the pick list from a Shopify webhook, lists it and serves it to the tenant's token only", async () => {
    const world = await createWorld();
    const filesId = await filesConnection(world);
    await world.flow("paid", [{ target: filesId, action: "exportFile", settings: { layout: "pickList", format: "csv" } }]);
    const order = shopifyOrder({
      shipping_address: { name: "Ane Lund", address1: "Lagervej 2", zip: "8000", city: "Aarhus", country_code: "DK" },
    });
    expect((await world.sendShopify("orders/paid", order)).status).toBe(200);
    const [transfer] = await settledTransfers(world, String(order.id), 1);
    expect(transfer.status, JSON.stringify(transfer)).toBe("completed");

    const listed = await world.api(`/files?connectionId=${filesId}`);
    expect(listed.status).toBe(200);
    expect(listed.body.files).toHaveLength(1);
    const file = listed.body.files[0];
    expect(file).toMatchObject({
      connectionId: filesId,
      orderId: String(order.id),
      orderNumber: `#${order.id}`,
      stage: "paid",
      layout: "pickList",
      format: "csv",
      rows: 1,
      transferId: transfer.id,
      filename: expect.stringMatching(new RegExp(`^pick-\\d{4}-\\d{2}-\\d{2}-${order.id}-[0-9a-f]{12}\\.csv$`)),
    });
    expect(file.key.startsWith(`files/${world.tenantId}/${filesId}/`)).toBe(true);
    expect((await world.api("/files")).body.files.map((f: { key: string }) => f.key)).toEqual([file.key]);

    const res = await download(file.key, world.token);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(res.headers.get("content-disposition")).toBe(`attachment; filename="${file.filename}"`);
    const rows = Papa.parse(await res.text(), { header: true, skipEmptyLines: true }).data;
    expect(rows).toEqual([
      expect.objectContaining({
        orderNumber: `#${order.id}`,
        sku: "TS-1",
        name: "T-shirt",
        quantity: "1",
        shipToName: "Ane Lund",
        shipToAddress1: "Lagervej 2",
        shipToCity: "Aarhus",
        shipToCountry: "DK",
        shippingMethod: "GLS",
      }),
    ]);

    // Run again from the start: the step adopts the file it wrote; still one object.
    const retry = await world.api(`/transfers/${transfer.id}/retry`, { body: { fromStart: true } });
    expect(retry.status, JSON.stringify(retry.body)).toBe(202);
    const again = await eventually(async () => {
      const detail = await world.api(`/transfers/${transfer.id}`);
      return detail.body.status === "completed" && detail.body.attempts.length >= 2 ? detail.body : undefined;
    }, "the re-run to finish");
    expect(JSON.stringify(again.steps)).toContain('"created":false');
    const objects = await env.BLOBS.list({ prefix: `files/${world.tenantId}/` });
    expect(objects.objects.map((o) => o.key)).toEqual([file.key]);

    // Another tenant's token: its list is empty, this tenant's key is not found there.
    const other = await createWorld();
    expect((await other.api("/files")).body.files).toEqual([]);
    const foreign = await download(file.key, other.token);
    expect(foreign.status).toBe(404);
    expect(await foreign.json()).toMatchObject({ error: { code: "file_not_found" } });
    // Keys that climb out or are not a file's are refused before R2 is asked.
    for (const bad of [
      `files/${other.tenantId}/../${world.tenantId}/${file.key.split("/").slice(2).join("/")}`,
      `files/${other.tenantId}/con_x/..%2F..%2Fx.csv`,
      `snapshots/${other.tenantId}/x.csv`,
      `files/${other.tenantId}/con_x/a.json`,
    ]) {
      const refused = await download(bad, other.token);
      expect(refused.status, bad).toBe(400);
      expect(await refused.json()).toMatchObject({ error: { code: "file_key_invalid" } });
    }
    // Without a token nothing is listed or served.
    expect((await SELF.fetch(`${BASE}/api/v1/files`)).status).toBe(401);
    expect((await SELF.fetch(`${BASE}/api/v1/files/${encodeURIComponent(file.key)}`)).status).toBe(401);
  });

  it("pages the list with R2's cursor, newest order first, and refuses a connection id that is not one", async () => {
    const world = await createWorld();
    const filesId = await filesConnection(world);
    await world.flow("paid", [{ target: filesId, action: "exportFile" }]);
    const orders = [shopifyOrder({ created_at: "2026-01-01T10:00:00Z" }), shopifyOrder({ created_at: "2026-02-01T10:00:00Z" })];
    for (const order of orders) await world.sendShopify("orders/paid", order);
    for (const order of orders) await settledTransfers(world, String(order.id), 1);
    const first = await world.api("/files?limit=1");
    expect(first.body.files.map((f: { orderId: string }) => f.orderId)).toEqual([String(orders[1]?.id)]);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await world.api(`/files?limit=1&cursor=${encodeURIComponent(first.body.nextCursor)}`);
    expect(second.body.files.map((f: { orderId: string }) => f.orderId)).toEqual([String(orders[0]?.id)]);
    expect((await world.api("/files?connectionId=..%2Fx")).status).toBe(400);
  });

  it("refuses a files step in a refunded or cancelled flow when the flow is saved", async () => {
    const world = await createWorld();
    const filesId = await filesConnection(world);
    for (const stage of ["refunded", "cancelled"]) {
      const res = await world.api("/flows", {
        body: { name: `${stage} pick list`, source: world.shopId, stage, steps: [{ target: filesId, action: "exportFile" }] },
      });
      expect(res.status, stage).toBe(400);
      expect(res.body).toMatchObject({ error: { code: "flow_action_stage" } });
    }
  });

  it("is described in the OpenAPI document", async () => {
    const spec = (await (await SELF.fetch(`${BASE}/api/v1/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(spec.paths)).toEqual(expect.arrayContaining(["/files", "/files/{key}"]));
  });
});
