/**
 * The flow dry run for cancelOrder: it says which drafts made for the order would be deleted, that
 * nothing would be, or that the step would fail on a booked/approved invoice, from the order's
 * steps in the transfer log and without calling the target.
 */
import { env } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { cancelPreview as billyPreview } from "../../src/connectors/billy/billy.cancel-order";
import { cancelPreview as economicPreview } from "../../src/connectors/economic/economic.cancel-order";
import type { LoggedStep } from "../../src/connectors/order-steps";
import { database } from "../../src/db/client";
import { flows } from "../../src/db/schema";
import { dryRun } from "../../src/worker/routes/ui/flows/dry-run";
import { createWorld, settledTransfers, shopifyOrder, type World } from "../helpers/world";
import { createBillyMock, installBillyMock } from "../mocks/billy.mock";
import { PRODUCTS, SETTINGS } from "../mocks/billy.mock.fixtures";
import { createEconomicMock, installEconomicMock } from "../mocks/economic.mock";
import { signedIn } from "./ui-client";

async function flowRow(id: string) {
  const row = await database(env).select().from(flows).where(eq(flows.id, id)).get();
  if (!row) throw new Error(`no flow ${id}`);
  return row;
}

/** Sends orders/paid and waits for its transfer; returns the order's id. */
async function paidOrder(world: World, overrides: Record<string, unknown> = {}) {
  const order = shopifyOrder(overrides);
  await world.sendShopify("orders/paid", order);
  const [transfer] = await settledTransfers(world, String(order.id), 1);
  return { order, transfer };
}

describe("dry run of cancelOrder (e-conomic)", () => {
  it("names the draft a failed createInvoice left, and sends nothing", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);
    const world = await createWorld();
    await world.flow("paid", [{ target: world.economicId, action: "createInvoice", settings: {} }]);
    const cancelFlow = await world.flow("cancelled", [{ target: world.economicId, action: "cancelOrder", settings: {} }]);
    const { transfer } = await paidOrder(world, { total_price: "260.00" });
    expect(transfer.status).toBe("failed");
    const requests = mock.state.requests.length;

    const run = await dryRun(env, await flowRow(cancelFlow), transfer.id);

    expect(run.steps).toHaveLength(1);
    expect(run.steps[0]).toMatchObject({ action: "cancelOrder", target: "e-conomic" });
    expect(run.steps[0]?.note).toBe(
      `Would delete the e-conomic drafts made for this order: the draft invoice its failed createInvoice step may have left (reference orderly-${transfer.id}-0). This is what the transfer log last saw; the step looks each invoice up first and refuses one booked since.`,
    );
    expect(mock.state.requests).toHaveLength(requests);
  });

  it("names a completed step's draft invoice, or says the step would fail on a booked one, on the dry-run page", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);
    const world = await createWorld();
    await world.flow("paid", [{ target: world.economicId, action: "createInvoice", settings: { invoiceState: "booked" } }]);
    const cancelFlow = await world.flow("cancelled", [{ target: world.economicId, action: "cancelOrder", settings: {} }]);
    const { transfer } = await paidOrder(world);
    expect(transfer.status).toBe("completed");

    const { browser } = await signedIn(world.tenantId, "viewer");
    const res = await browser.get(`/flows/${cancelFlow}/dry-run?transfer=${transfer.id}`);

    expect(res.status).toBe(200);
    expect(browser.lastHtml).toContain("cancelOrder");
    expect(browser.lastHtml).toContain(
      "Would fail and delete nothing: invoice 1 is booked in e-conomic and cannot be deleted; credit instead",
    );
    expect(browser.lastHtml).not.toContain("No document to preview");
  });

  it("says nothing would be deleted when no step of the order ran on the connection", async () => {
    const world = await createWorld();
    await world.flow("paid", [{ target: world.ledgerId, action: "createInvoice", settings: {} }]);
    const cancelFlow = await world.flow("cancelled", [{ target: world.economicId, action: "cancelOrder", settings: {} }]);
    const { transfer } = await paidOrder(world);

    const run = await dryRun(env, await flowRow(cancelFlow), transfer.id);

    expect(run.steps[0]?.note).toBe(
      "Would delete nothing: no draft invoice or draft order was made for this order on this connection.",
    );
  });
});

describe("dry run of cancelOrder (Billy)", () => {
  it("says the step would fail on an approved invoice, and names a draft otherwise", async () => {
    const mock = createBillyMock({ products: PRODUCTS });
    installBillyMock(mock);
    const world = await createWorld();
    const connection = await world.api("/connections", {
      body: {
        connector: "billy",
        name: "Billy",
        settings: { baseUrl: "https://billy.test" },
        credentials: { accessToken: "billy-token" },
      },
    });
    const billyId = connection.body.id as string;
    const paidFlow = await world.flow("paid", [
      { target: billyId, action: "createInvoice", settings: { ...SETTINGS, invoiceState: "booked" } },
    ]);
    const cancelFlow = await world.flow("cancelled", [{ target: billyId, action: "cancelOrder", settings: {} }]);
    const approved = await paidOrder(world);
    expect(approved.transfer.status).toBe("completed");

    const first = await dryRun(env, await flowRow(cancelFlow), approved.transfer.id);
    expect(first.steps[0]?.note).toBe(
      "Would fail and delete nothing: Billy invoice 1001 for this order is approved and cannot be deleted; credit instead (a createCreditNote step, or a credit note in Billy).",
    );

    const changed = await world.api(`/flows/${paidFlow}`, {
      method: "PATCH",
      body: { steps: [{ target: billyId, action: "createInvoice", settings: { ...SETTINGS, invoiceState: "draft" } }] },
    });
    expect(changed.status).toBe(200);
    const draft = await paidOrder(world);
    const id = (mock.state.invoices.at(-1) as { id: string }).id;
    const requests = mock.requests.length;

    const second = await dryRun(env, await flowRow(cancelFlow), draft.transfer.id);
    expect(second.steps[0]?.note).toBe(
      `Would delete the Billy draft made for this order: draft invoice ${id}. This is what the transfer log last saw; the step asks Billy first and refuses an invoice approved since.`,
    );
    expect(mock.requests).toHaveLength(requests);
  });
});

describe("cancelPreview", () => {
  const step = (over: Partial<LoggedStep>): LoggedStep => ({
    transferId: "t",
    stage: "paid",
    stepIndex: 0,
    action: "createInvoice",
    status: "completed",
    attempts: 1,
    output: null,
    errorReason: null,
    settings: undefined,
    reference: "orderly-t-0",
    updatedAt: 0,
    ...over,
  });

  it("e-conomic: a draft order already turned into the invoice is not named; a booked invoice (also by bookInvoice) makes the step fail", () => {
    expect(
      economicPreview([
        step({ output: { draftInvoiceNumber: 4, fromOrderNumber: 9 } }),
        step({ action: "createOrder", stage: "created", output: { orderNumber: 9 } }),
      ]),
    ).toMatch(/^Would delete the e-conomic drafts made for this order: draft invoice 4\. /);
    expect(
      economicPreview([
        step({ action: "createOrder", stage: "created", output: { orderNumber: 9 } }),
        step({ status: "retrying", attempts: 2, settings: { referencePrefix: "WEB-" } }),
      ]),
    ).toMatch(/: draft order 9; the draft invoice its retrying createInvoice step may have left \(reference WEB-orderly-t-0\)\./);
    expect(
      economicPreview([
        step({ action: "bookInvoice", output: { bookedInvoiceNumber: 12 } }),
        step({ output: { draftInvoiceNumber: 4 } }),
        step({ output: { draftInvoiceNumber: 5, bookedInvoiceNumber: 13 } }),
      ]),
    ).toMatch(/^Would fail and delete nothing: invoices 12, 13 are booked in e-conomic/);
    expect(economicPreview([step({ status: "pending", attempts: 0 })])).toMatch(/^Would delete nothing/);
  });

  it("Billy: drafts by id, approved invoices by number, a failed step by its reference", () => {
    expect(
      billyPreview([
        step({ output: { invoiceId: "inv-2", state: "draft" } }),
        step({ status: "failed", reference: "orderly-u-0" }),
      ]),
    ).toMatch(/: draft invoice inv-2; the draft its failed createInvoice step may have left \(reference orderly-u-0\)\./);
    expect(
      billyPreview([
        step({ output: { invoiceId: "inv-2", state: "approved", invoiceNo: "1002" } }),
        step({ output: { invoiceId: "inv-3", state: "approved", invoiceNo: "1003" } }),
      ]),
    ).toMatch(/^Would fail and delete nothing: Billy invoices 1002, 1003 for this order are approved/);
    expect(billyPreview([])).toBe("Would delete nothing: no Billy invoice was made for this order on this connection.");
  });
});
