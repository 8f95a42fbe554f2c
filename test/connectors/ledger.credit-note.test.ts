/**
 * The sandbox ledger checks a credit note against the invoice it credits before it writes, as
 * e-conomic and Billy do (credit-checks.ts): the invoice's currency, and with the invoice's earlier
 * credit notes no more than its amount. A retry of the same credit note never counts against itself,
 * the note carrying the step's reference is taken over unchecked, and a note of a refund deleted in
 * the shop (the order no longer lists it) is not counted.
 */
import { env } from "cloudflare:test";
import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import type { ActionResult, StepHistoryEntry } from "../../src/connectors/contract";
import { createCreditNote, createInvoice } from "../../src/connectors/sandbox-ledger/ledger.actions";
import { database } from "../../src/db/client";
import { ledgerInvoices } from "../../src/db/schema";
import type { CanonicalOrder, CanonicalRefund } from "../../src/domain/order";
import { actionContext } from "../helpers/action-context";
import { danishOrder, done, failure, refundOf } from "../mocks/economic.mock.fixtures";

const EXCHANGE = { currency: "EUR", exchange: { shopCurrency: "DKK", rate: "7.4603" } };

/** A fresh ledger connection with a booked invoice for the order. */
async function invoiced(order: CanonicalOrder, settings: Record<string, unknown> = {}) {
  const connectionId = `con_ledger_${crypto.randomUUID()}`;
  const connection = { id: connectionId, tenantId: "ten_ledger", settings: {}, credentials: {} };
  const { ctx } = actionContext(createInvoice, {
    connection,
    settings: { invoiceState: "booked", ...settings },
    reference: "orderly-invoice-0",
  });
  const result = await createInvoice.run(ctx, { order });
  const history: StepHistoryEntry[] = [done("createInvoice", result, connectionId)];
  const credit = (
    refund: CanonicalRefund,
    reference: string,
    stepSettings: Record<string, unknown> = {},
    now: CanonicalOrder = order,
  ) => {
    const { ctx: creditCtx } = actionContext(createCreditNote, {
      connection,
      settings: { invoiceState: "booked", ...stepSettings },
      reference,
      history,
    });
    return createCreditNote.run(creditCtx, { order: now, refund });
  };
  /** The order's history records a credit-note step that completed for `refundId` (its transfer's occurrence). */
  const completed = (refundId: string, made: ActionResult) =>
    history.push({
      ...done("createCreditNote", made, connectionId),
      transferId: `t-${refundId}`,
      stage: "refunded",
      occurrence: refundId,
    });
  const creditNotes = () =>
    database(env)
      .select()
      .from(ledgerInvoices)
      .where(and(eq(ledgerInvoices.connectionId, connectionId), eq(ledgerInvoices.type, "credit-note")))
      .all();
  return { result, credit, completed, creditNotes };
}

const second = (overrides: Partial<CanonicalRefund> = {}) =>
  refundOf({
    source: { connector: "shopify", orderId: "5001", refundId: "r2", createdAt: "2025-11-12T09:00:00+01:00" },
    ...overrides,
  });

describe("sandbox ledger createCreditNote against the invoice it credits", () => {
  it("refuses a refund credited a second time beyond the invoice, naming the amounts, making nothing", async () => {
    const { result, credit, creditNotes } = await invoiced(danishOrder());
    const first = await credit(refundOf({ shipping: 4900, total: 24800 }), "orderly-refund-0");
    expect(first.created).toBe(true);

    const error = await failure(credit(second(), "orderly-refund-1"));

    expect(error).toMatchObject({ errorClass: "validation", code: "ledger_credit_exceeds_invoice", madeNothing: true });
    expect(error.message).toContain(`Sandbox ledger invoice ${result.outputs.invoiceId} is 248.00 DKK`);
    expect(error.message).toContain(`(credit note ${first.outputs.creditNoteId}: 248.00 DKK)`);
    expect(await creditNotes()).toHaveLength(1);
  });

  it("lets two partial refunds within the invoice through, and a retry of the second does not count against itself", async () => {
    const { credit, creditNotes } = await invoiced(danishOrder());
    await credit(refundOf(), "orderly-refund-0");
    const shipping = second({ lines: [], shipping: 4900, total: 4900 });
    const made = await credit(shipping, "orderly-refund-1");
    const again = await credit(shipping, "orderly-refund-1");

    expect(made.created).toBe(true);
    expect(again).toMatchObject({ created: false, externalId: made.externalId });
    expect(await creditNotes()).toHaveLength(2);
  });

  it("refuses a credit note in EUR for an invoice the shop's DKK setting made, making nothing", async () => {
    const order = danishOrder(EXCHANGE);
    const { result, credit, creditNotes } = await invoiced(order, { invoiceCurrency: "shop" });
    expect(result.outputs).toMatchObject({ currency: "DKK" });

    const error = await failure(credit(refundOf({ currency: "EUR" }), "orderly-refund-0"));

    expect(error).toMatchObject({ errorClass: "validation", code: "ledger_credit_currency", madeNothing: true });
    expect(error.message).toContain(`Sandbox ledger invoice ${result.outputs.invoiceId} is in DKK`);
    expect(error.message).toContain(`invoiceCurrency like the invoice step's ("shop")`);
    expect(await creditNotes()).toEqual([]);

    const { created } = await credit(refundOf({ currency: "EUR" }), "orderly-refund-0", { invoiceCurrency: "shop" });
    expect(created).toBe(true);
  });

  it("takes over the note carrying the step's reference before checking: a retry after the currency setting changed", async () => {
    const order = danishOrder(EXCHANGE);
    const { credit, creditNotes } = await invoiced(order, { invoiceCurrency: "shop" });
    const made = await credit(refundOf({ currency: "EUR" }), "orderly-refund-0", { invoiceCurrency: "shop" });

    // The step's setting is put back afterwards: its own note, in DKK, is still this credit note.
    const again = await credit(refundOf({ currency: "EUR" }), "orderly-refund-0");

    expect(again).toMatchObject({ created: false, externalId: made.externalId });
    expect(await creditNotes()).toHaveLength(1);
  });
});

describe("sandbox ledger createCreditNote after a refund was deleted in the shop", () => {
  const woo = (refundIds: string[]) => danishOrder({ refundIds });

  it("leaves out the note of a refund the order no longer lists, so the refund made again is credited", async () => {
    const { credit, completed, creditNotes } = await invoiced(woo(["r1"]));
    const first = await credit(refundOf({ shipping: 4900, total: 24800 }), "orderly-refund-0");
    completed("r1", first);

    // Refund r1 deleted in WooCommerce and made again as r2: the newer order lists r2 only.
    const again = await credit(second({ shipping: 4900, total: 24800 }), "orderly-refund-1", {}, woo(["r2"]));

    expect(again.created).toBe(true);
    expect(await creditNotes()).toHaveLength(2);
  });

  it("still counts the note of a refund the order lists, and one no completed step names", async () => {
    const { credit, completed, creditNotes } = await invoiced(woo(["r1"]));
    const first = await credit(refundOf({ shipping: 4900, total: 24800 }), "orderly-refund-0");
    completed("r1", first);

    const listed = await failure(credit(second(), "orderly-refund-1", {}, woo(["r1", "r2"])));
    expect(listed.code).toBe("ledger_credit_exceeds_invoice");

    // The history names no step that made it (one that failed after writing it): it is counted.
    const { credit: unnamedCredit } = await invoiced(woo(["r1"]));
    await unnamedCredit(refundOf({ shipping: 4900, total: 24800 }), "orderly-refund-0");
    const unnamed = await failure(unnamedCredit(second(), "orderly-refund-1", {}, woo(["r2"])));
    expect(unnamed.code).toBe("ledger_credit_exceeds_invoice");
    expect(await creditNotes()).toHaveLength(1);
  });
});
