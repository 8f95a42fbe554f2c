/**
 * The sandbox ledger's createInvoice in a second flow of an order (invoicing moved from the paid
 * flow to the fulfilled one, or a flow on another stage invoicing too): it adopts the invoice the
 * other flow made on this connection instead of booking the order again, unless booked credit notes
 * took that one back in full. A step's own invoice comes first.
 */
import { env } from "cloudflare:test";
import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import type { StepHistoryEntry } from "../../src/connectors/contract";
import { createCreditNote, createInvoice, registerPayment } from "../../src/connectors/sandbox-ledger/ledger.actions";
import { database } from "../../src/db/client";
import { ledgerInvoices } from "../../src/db/schema";
import type { CanonicalOrder, CanonicalRefund } from "../../src/domain/order";
import { actionContext } from "../helpers/action-context";
import { danishOrder, done, refundOf } from "../mocks/economic.mock.fixtures";

const BOOKED = { invoiceState: "booked" };

function ledger() {
  const connectionId = `con_ledger_${crypto.randomUUID()}`;
  const connection = { id: connectionId, tenantId: "ten_ledger", settings: {}, credentials: {} };
  const history: StepHistoryEntry[] = [];
  const invoice = (order: CanonicalOrder, reference: string, settings: Record<string, unknown> = BOOKED) =>
    createInvoice.run(actionContext(createInvoice, { connection, settings, reference, history }).ctx, { order });
  const credit = (refund: CanonicalRefund, reference: string) =>
    createCreditNote.run(actionContext(createCreditNote, { connection, settings: BOOKED, reference, history }).ctx, {
      order: danishOrder({ stage: "refunded" }),
      refund,
    });
  const invoices = () =>
    database(env)
      .select()
      .from(ledgerInvoices)
      .where(and(eq(ledgerInvoices.connectionId, connectionId), eq(ledgerInvoices.type, "invoice")))
      .all();
  return { connectionId, connection, history, invoice, credit, invoices };
}

const fulfilled = () => danishOrder({ stage: "fulfilled" });

describe("sandbox ledger createInvoice in a second flow of the order", () => {
  it("adopts the booked invoice the paid flow made: no second invoice, and a payment after it lands on it", async () => {
    const l = ledger();
    const paid = await l.invoice(danishOrder(), "orderly-paid-0");
    l.history.push({ ...done("createInvoice", paid, l.connectionId), transferId: "t-paid" });

    const result = await l.invoice(fulfilled(), "orderly-fulfilled-0");

    expect(await l.invoices()).toHaveLength(1);
    expect(result).toMatchObject({
      externalId: paid.externalId,
      created: false,
      outputs: {
        invoiceId: paid.outputs.invoiceId,
        state: "booked",
        differences: [],
        adoptedFrom: { transferId: "t-paid", stage: "paid", stepIndex: 0 },
      },
    });
    expect(result.outputs.reason).toContain("made earlier by another flow");
    const { ctx } = actionContext(registerPayment, { connection: l.connection, previous: [result], reference: "orderly-pay-1" });
    expect((await registerPayment.run(ctx, { order: fulfilled() })).outputs.invoiceId).toBe(paid.outputs.invoiceId);
  });

  it("adopts the paid flow's draft and books it as this step says, keeping its reference", async () => {
    const l = ledger();
    const paid = await l.invoice(danishOrder(), "orderly-paid-0", { invoiceState: "draft" });
    l.history.push({ ...done("createInvoice", paid, l.connectionId), transferId: "t-paid" });

    const result = await l.invoice(fulfilled(), "orderly-fulfilled-0");

    const rows = await l.invoices();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ id: paid.outputs.invoiceId, state: "booked", reference: "orderly-paid-0" });
    expect(result).toMatchObject({ created: false, outputs: { updated: true, adoptedFrom: { transferId: "t-paid" } } });
  });

  it("adopts the invoice refunds credited in full: a new one would stand uncredited", async () => {
    const l = ledger();
    const paid = await l.invoice(danishOrder(), "orderly-paid-0");
    l.history.push({ ...done("createInvoice", paid, l.connectionId), transferId: "t-paid" });
    const note = await l.credit(refundOf({ shipping: 4900, total: 24800 }), "orderly-r1-0");
    l.history.push({
      ...done("createCreditNote", note, l.connectionId),
      transferId: "t-r1",
      stage: "refunded",
      occurrence: "r1",
    });

    const result = await l.invoice(fulfilled(), "orderly-fulfilled-0");

    expect(await l.invoices()).toHaveLength(1);
    expect(result).toMatchObject({ created: false, outputs: { invoiceId: paid.outputs.invoiceId } });
  });

  it("makes a new invoice when a cancellation's booked credit note took the earlier one back in full", async () => {
    const l = ledger();
    const paid = await l.invoice(danishOrder(), "orderly-paid-0");
    l.history.push({ ...done("createInvoice", paid, l.connectionId), transferId: "t-paid" });
    const note = await l.credit(refundOf({ shipping: 4900, total: 24800 }), "orderly-r1-0");
    l.history.push({ ...done("createCreditNote", note, l.connectionId), transferId: "t-c1", stage: "cancelled" });

    const result = await l.invoice(fulfilled(), "orderly-fulfilled-0");

    expect(await l.invoices()).toHaveLength(2);
    expect(result.created).toBe(true);
    expect(result.outputs.adoptedFrom).toBeUndefined();
  });

  it("adopts an earlier invoice credited only in part", async () => {
    const l = ledger();
    const paid = await l.invoice(danishOrder(), "orderly-paid-0");
    l.history.push({ ...done("createInvoice", paid, l.connectionId), transferId: "t-paid" });
    const note = await l.credit(refundOf(), "orderly-r1-0");
    l.history.push({
      ...done("createCreditNote", note, l.connectionId),
      transferId: "t-r1",
      stage: "refunded",
      occurrence: "r1",
    });

    const result = await l.invoice(fulfilled(), "orderly-fulfilled-0");

    expect(await l.invoices()).toHaveLength(1);
    expect(result.outputs).toMatchObject({ invoiceId: paid.outputs.invoiceId, adoptedFrom: { transferId: "t-paid" } });
  });

  it("keeps a re-run to its own invoice, even beside another flow's", async () => {
    const l = ledger();
    const paid = await l.invoice(danishOrder(), "orderly-paid-0");
    // The fulfilled flow's own invoice, made before it could adopt the paid one.
    const own = await l.invoice(fulfilled(), "orderly-fulfilled-0");
    l.history.push({ ...done("createInvoice", paid, l.connectionId), transferId: "t-paid" });

    const again = await l.invoice(fulfilled(), "orderly-fulfilled-0");

    expect(await l.invoices()).toHaveLength(2);
    expect(again).toMatchObject({ created: false, outputs: { invoiceId: own.outputs.invoiceId } });
    expect(again.outputs.adoptedFrom).toBeUndefined();
  });
});
