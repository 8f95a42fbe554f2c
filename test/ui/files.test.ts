/**
 * The Files page: the signed-in tenant's exported files with download links, in the navigation,
 * filtered by connection; another tenant's file is not found, a key that climbs out is refused.
 * The files connector shows in the connection form, with its settings and no credentials.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { applyRetention } from "../../src/worker/retention";
import { createWorld, settledTransfers, shopifyOrder } from "../helpers/world";
import { signedIn } from "./ui-client";

const decode = (html: string) => html.replaceAll("&amp;", "&").replaceAll("&quot;", '"');

describe("the Files page", () => {
  it("lists the tenant's files with a download link, and never another tenant's", async () => {
    const world = await createWorld();
    const made = await world.api("/connections", { body: { connector: "files", name: "Warehouse pick lists" } });
    expect(made.status).toBe(201);
    const filesId = made.body.id as string;
    await world.flow("paid", [{ target: filesId, action: "exportFile", settings: { layout: "orderLines", format: "xml" } }]);
    const order = shopifyOrder();
    await world.sendShopify("orders/paid", order);
    await settledTransfers(world, String(order.id), 1);
    const [file] = (await world.api("/files")).body.files;

    const { browser } = await signedIn(world.tenantId, "viewer");
    const res = await browser.get("/files");
    expect(res.status).toBe(200);
    const html = decode(browser.lastHtml);
    expect(html).toContain('<a href="/files" aria-current="page">Files</a>');
    expect(html).toContain(file.filename);
    const href = `/files/download?key=${encodeURIComponent(file.key)}`;
    expect(html).toContain(`href="${href}"`);
    expect(html).toContain("Order lines");
    expect(html).toContain("Warehouse pick lists");
    expect(html).toContain(`href="/transfers/${file.transferId}"`);

    const filtered = await browser.get(`/files?connection=${filesId}`);
    expect(filtered.status).toBe(200);
    expect(browser.lastHtml).toContain(file.filename);

    const downloaded = await browser.get(href);
    expect(downloaded.status).toBe(200);
    expect(downloaded.headers.get("content-type")).toBe("application/xml; charset=utf-8");
    expect(downloaded.headers.get("content-disposition")).toBe(`attachment; filename="${file.filename}"`);
    expect(await downloaded.text()).toContain(`<orderNumber>#${order.id}</orderNumber>`);

    // Another tenant's person: an empty list, and this tenant's file is not found.
    const other = await createWorld();
    const { browser: stranger } = await signedIn(other.tenantId, "owner");
    await stranger.get("/files");
    expect(stranger.lastHtml).not.toContain(file.filename);
    expect(stranger.lastHtml).toContain("Add a Files connection");
    const foreign = await stranger.get(href);
    expect(foreign.status).toBe(404);
    expect(stranger.lastHtml).not.toContain(`#${order.id}`);
    // A key that climbs out of the tenant's prefix is refused with the reason.
    const climbing = `files/${other.tenantId}/../${file.key.split("/").slice(1).join("/")}`;
    expect((await stranger.get(`/files/download?key=${encodeURIComponent(climbing)}`)).status).toBe(400);
    expect(stranger.lastHtml).toContain("not the key of an exported file");
    expect((await stranger.get("/files/download?key=snapshots%2Fx.csv")).status).toBe(400);
    // A connection of another tenant in the filter lists the tenant's own files only.
    await stranger.get(`/files?connection=${filesId}`);
    expect(stranger.lastHtml).not.toContain(file.filename);
  });

  it("shows a file past the retention as deleted, without a download link, and answers its download 404 with the reason", async () => {
    const world = await createWorld();
    const made = await world.api("/connections", { body: { connector: "files", name: "Warehouse" } });
    await world.flow("paid", [{ target: made.body.id as string, action: "exportFile" }]);
    const order = shopifyOrder();
    await world.sendShopify("orders/paid", order);
    await settledTransfers(world, String(order.id), 1);
    const [file] = (await world.api("/files")).body.files;
    await applyRetention(env, Date.now() + 400 * 86_400_000);

    const listed = (await world.api("/files")).body.files;
    expect(listed).toEqual([expect.objectContaining({ key: file.key, expiredAt: expect.any(String) })]);
    const api = await world.api(`/files/${encodeURIComponent(file.key)}`);
    expect(api.status).toBe(404);
    expect(api.body).toMatchObject({ error: { code: "file_expired" } });

    const { browser } = await signedIn(world.tenantId, "viewer");
    await browser.get("/files");
    const html = decode(browser.lastHtml);
    expect(html).toContain(file.filename);
    expect(html).toContain("deleted after retention");
    const href = `/files/download?key=${encodeURIComponent(file.key)}`;
    expect(html).not.toContain(`href="${href}"`);
    expect((await browser.get(href)).status).toBe(404);
    expect(browser.lastHtml).toContain("deleted after the retention");
  });

  it("offers the files connector in the connection form, with its settings and no credentials", async () => {
    const world = await createWorld();
    const { browser } = await signedIn(world.tenantId, "owner");
    await browser.get("/connections/new");
    expect(decode(browser.lastHtml)).toContain('<a href="/connections/new?connector=files">Files (CSV / XML export)</a>');
    await browser.get("/connections/new?connector=files");
    for (const field of ["settings.defaultFormat", "settings.csvDelimiter", "settings.csvBom", "settings.filenamePrefix"])
      expect(browser.lastHtml).toContain(`name="${field}"`);
    expect(browser.lastHtml).not.toContain("<legend>Credentials</legend>");
    // The BOM is on for a new connection (Excel reads æøå right), and can be unticked.
    expect(browser.lastHtml).toMatch(/<input[^>]*name="settings.csvBom"[^>]*checked/);
    const res = await browser.post("/connections", {
      connector: "files",
      name: "3PL",
      "settings.defaultFormat": "xml",
      "settings.csvDelimiter": ",",
      "settings.filenamePrefix": "tpl-",
    });
    expect(res.status, browser.lastHtml.slice(0, 500)).toBe(201);
    expect(browser.lastHtml).toContain("Connection added");
    const list = await world.api("/connections");
    const made = (list.body.connections as Array<{ connector: string; settings: unknown }>).find((c) => c.connector === "files");
    // The BOM box left unticked: off (a warehouse importer that trips on it).
    expect(made?.settings).toEqual({ defaultFormat: "xml", csvDelimiter: ",", csvBom: false, filenamePrefix: "tpl-" });
  });
});
