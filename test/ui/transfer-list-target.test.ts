/** The failure alert links to /transfers?status=failed&target=<connection>: the log lists that target's transfers only. */
import { describe, expect, it } from "vitest";
import { failedTransfersPath } from "../../src/notifications/alert-emails";
import { PAGE_SIZE } from "../../src/worker/routes/ui/data/transfer-list";
import { type LoggedTransfer, logTransfers, transferIdForTest } from "../helpers/transfer-log";
import { createWorld } from "../helpers/world";
import { signedIn } from "./ui-client";

/** The transfer ids a log page links to. */
function listed(html: string): string[] {
  return [...html.matchAll(/<a href="\/transfers\/([0-9a-f]{32})">/g)].map((m) => m[1] as string);
}

function nextHref(html: string): string | undefined {
  return /<a href="([^"]*)" rel="next">/.exec(html)?.[1]?.replaceAll("&amp;", "&");
}

describe("the transfer log's target filter", () => {
  it("lists only the failed transfers with a step to the alert's target, on every page", async () => {
    const world = await createWorld();
    const failed = (target: string): LoggedTransfer => ({
      id: transferIdForTest(),
      stage: "paid",
      steps: [{ target, action: "createInvoice", status: "failed" }],
    });
    // One page and one row of A's, so the next-page link has to carry the filter.
    const onA = Array.from({ length: PAGE_SIZE + 1 }, () => failed(world.ledgerId));
    const onB = [failed(world.economicId), failed(world.economicId)];
    const both: LoggedTransfer = {
      id: transferIdForTest(),
      stage: "paid",
      steps: [
        { target: world.economicId, action: "createInvoice", status: "completed" },
        { target: world.ledgerId, action: "createInvoice", status: "failed" },
      ],
    };
    await logTransfers({ tenantId: world.tenantId, sourceConnectionId: world.shopId, orderId: "1001" }, [...onA, ...onB, both]);
    const { browser } = await signedIn(world.tenantId);

    const path = failedTransfersPath(world.ledgerId);
    expect(path).toBe(`/transfers?status=failed&target=${world.ledgerId}`);
    expect((await browser.get(path)).status).toBe(200);
    // The filter form keeps the target, so filtering further stays within it.
    expect(browser.lastHtml).toContain(`<input type="hidden" name="target" value="${world.ledgerId}"`);
    const first = listed(browser.lastHtml);
    expect(first).toHaveLength(PAGE_SIZE);
    const next = nextHref(browser.lastHtml);
    expect(next).toBeDefined();
    const params = new URL(next as string, "https://orderly.test").searchParams;
    expect(params.get("target")).toBe(world.ledgerId);
    expect(params.get("status")).toBe("failed");
    expect((await browser.get(next as string)).status).toBe(200);
    // A's 51, and the one with a step to each target.
    const second = listed(browser.lastHtml);
    expect(second).toHaveLength(2);
    expect(nextHref(browser.lastHtml)).toBeUndefined();
    expect(/<a href="([^"]*)">Newest<\/a>/.exec(browser.lastHtml)?.[1]?.replaceAll("&amp;", "&")).toBe(path);
    expect(new Set([...first, ...second])).toEqual(new Set([...onA, both].map((t) => t.id)));

    await browser.get(failedTransfersPath(world.economicId));
    expect(new Set(listed(browser.lastHtml))).toEqual(new Set([...onB, both].map((t) => t.id)));

    // Without the filter the tenant's every failed transfer is listed (the defect the link had).
    await browser.get("/transfers?status=failed");
    expect(listed(browser.lastHtml)).toHaveLength(PAGE_SIZE);
  });
});
