import { describe, expect, it } from "vitest";
import { billyConnector, cancelOrder, createInvoice, invoicesMade } from "../../src/connectors/billy";
import type { ActionResult } from "../../src/connectors/contract";
import { createBillyMock, installBillyMock } from "../mocks/billy.mock";
import { danishOrder, failure, historyEntry, PRODUCTS, REFERENCE, run, SETTINGS } from "../mocks/billy.mock.fixtures";

const BOOKED = { ...SETTINGS, invoiceState: "booked" };

/** REFERENCE is step 0 of this transfer: the history entry of that createInvoice names them. */
const PAID_TRANSFER = "0123456789abcdef0123456789abcdef";

function billy() {
  const mock = createBillyMock({ products: PRODUCTS });
  installBillyMock(mock);
  return mock;
}

const calls = (mock: ReturnType<typeof createBillyMock>) =>
  mock.requests.map((r) => `${r.method} ${r.path}${Object.keys(r.query).length ? `?${new URLSearchParams(r.query)}` : ""}`);

const made = (result: ActionResult, transferId = PAID_TRANSFER) =>
  historyEntry("createInvoice", result, { transferId, stepIndex: 0 });

describe("Billy cancelOrder", () => {
  it("is an action of the Billy connector, with nothing to set", () => {
    expect(billyConnector.actions?.cancelOrder).toBe(cancelOrder);
    expect(cancelOrder.settings.parse({})).toEqual({});
  });

  it("deletes the draft invoice the paid-stage flow made, found by its reference", async () => {
    const mock = billy();
    const invoice = await run(createInvoice, danishOrder());
    expect(invoice.result.outputs.state).toBe("draft");
    const id = invoice.result.outputs.invoiceId as string;
    mock.requests.length = 0;

    const { result } = await run(cancelOrder, danishOrder({ stage: "cancelled" }), {}, { history: [made(invoice.result)] });

    expect(calls(mock)).toEqual([`GET /invoices?externalId=${REFERENCE}`, `DELETE /invoices/${id}`]);
    expect(mock.requests[1]?.body).toBeUndefined();
    expect(result).toEqual({ externalId: `draft ${id}`, created: false, outputs: { deletedDraftInvoices: [id] } });
    expect(mock.state.invoices).toEqual([]);
    expect(mock.state.invoiceLines).toEqual([]);
  });

  it("refuses an approved invoice, naming it and asking for a credit note, and deletes nothing", async () => {
    const mock = billy();
    const invoice = await run(createInvoice, danishOrder(), BOOKED);
    const writesBefore = mock.writes().length;

    const error = await failure(run(cancelOrder, danishOrder(), {}, { history: [made(invoice.result)] }));

    expect(error).toMatchObject({ errorClass: "validation", code: "billy_invoice_approved" });
    expect(error.message).toBe(
      "Billy invoice 1001 for order #1001 is approved and cannot be deleted: credit it instead (a createCreditNote step on the refunded stage, or a credit note in Billy).",
    );
    expect(mock.writes()).toHaveLength(writesBefore);
    expect(mock.state.invoices).toHaveLength(1);
  });

  it("asks Billy how the invoice is now: a draft a person approved since is refused too", async () => {
    const mock = billy();
    const invoice = await run(createInvoice, danishOrder());
    const id = invoice.result.outputs.invoiceId as string;
    const approved = mock.invoice(id);
    if (approved) Object.assign(approved, { state: "approved", invoiceNo: "1001" });

    const error = await failure(run(cancelOrder, danishOrder(), {}, { history: [made(invoice.result)] }));

    expect(error.code).toBe("billy_invoice_approved");
    expect(mock.requests.filter((r) => r.method === "DELETE")).toEqual([]);
  });

  it("checks every invoice before deleting any: one approved keeps the draft too", async () => {
    const mock = billy();
    const draft = await run(createInvoice, danishOrder(), SETTINGS, { reference: "orderly-aaaa-0" });
    const booked = await run(createInvoice, danishOrder(), BOOKED, { reference: "orderly-bbbb-0" });

    const error = await failure(
      run(cancelOrder, danishOrder(), {}, { history: [made(draft.result, "aaaa"), made(booked.result, "bbbb")] }),
    );

    expect(error.code).toBe("billy_invoice_approved");
    expect(mock.state.invoices.map((i) => i.state)).toEqual(["draft", "approved"]);
  });

  it("is idempotent: a re-run finds nothing left and completes saying so", async () => {
    const mock = billy();
    const invoice = await run(createInvoice, danishOrder());
    const history = [made(invoice.result)];
    await run(cancelOrder, danishOrder(), {}, { history });
    mock.requests.length = 0;

    const again = await run(cancelOrder, danishOrder(), {}, { history });

    expect(again.result).toEqual({
      externalId: "nothing deleted",
      created: false,
      outputs: {
        deletedDraftInvoices: [],
        reason: "the invoice made for this order is already gone (deleted or voided in Billy)",
      },
    });
    // Looked up by reference, then by the id the step recorded; nothing written.
    expect(calls(mock)).toEqual([`GET /invoices?externalId=${REFERENCE}`, `GET /invoices/${invoice.result.outputs.invoiceId}`]);
  });

  it("completes when no Billy invoice was made for the order (or only on another connection)", async () => {
    const mock = billy();
    const elsewhere = historyEntry(
      "createInvoice",
      { externalId: "inv-9", created: true, outputs: { invoiceId: "inv-9" } },
      { target: "con_other" },
    );

    const { result } = await run(cancelOrder, danishOrder(), {}, { history: [elsewhere] });

    expect(result.outputs).toEqual({
      deletedDraftInvoices: [],
      reason: "no Billy invoice was made for this order on this connection",
    });
    expect(mock.requests).toEqual([]);
  });

  it("finds a draft whose reference a person removed by the id its step recorded", async () => {
    const mock = billy();
    const invoice = await run(createInvoice, danishOrder());
    const id = invoice.result.outputs.invoiceId as string;
    const record = mock.invoice(id);
    if (record) record.externalId = null;

    const { result } = await run(cancelOrder, danishOrder(), {}, { history: [made(invoice.result)] });

    expect(result.outputs).toEqual({ deletedDraftInvoices: [id] });
    expect(mock.state.invoices).toEqual([]);
  });

  it("leaves a voided invoice and credit notes alone", async () => {
    const mock = billy();
    const invoice = await run(createInvoice, danishOrder());
    const id = invoice.result.outputs.invoiceId as string;
    const record = mock.invoice(id);
    if (record) record.state = "voided";

    const { result } = await run(cancelOrder, danishOrder(), {}, { history: [made(invoice.result)] });

    expect(result.outputs.deletedDraftInvoices).toEqual([]);
    expect(mock.requests.filter((r) => r.method === "DELETE")).toEqual([]);
  });

  it("retries a DELETE Billy failed with a 503 as a retryable error; the re-run completes", async () => {
    const mock = billy();
    const invoice = await run(createInvoice, danishOrder());
    mock.failNext({ status: 503, method: "DELETE" });

    const error = await failure(run(cancelOrder, danishOrder(), {}, { history: [made(invoice.result)] }));
    expect(error.errorClass).toBe("unavailable");
    expect(mock.state.invoices).toHaveLength(1);

    const { result } = await run(cancelOrder, danishOrder(), {}, { history: [made(invoice.result)] });
    expect(result.outputs.deletedDraftInvoices).toEqual([invoice.result.outputs.invoiceId]);
  });

  it("names the invoices made from this connection's createInvoice history, newest first", () => {
    const first = { externalId: "inv-1", created: true, outputs: { invoiceId: "inv-1" } };
    const second = { externalId: "inv-2", created: true, outputs: { invoiceId: "inv-2" } };
    expect(
      invoicesMade(
        [
          historyEntry("createInvoice", first, { transferId: "t1", stepIndex: 0 }),
          historyEntry("registerPayment", second, { transferId: "t1", stepIndex: 1 }),
          historyEntry("createInvoice", second, { transferId: "t2", stepIndex: 2 }),
        ],
        "con_billy",
      ),
    ).toEqual([
      { invoiceId: "inv-2", reference: "orderly-t2-2" },
      { invoiceId: "inv-1", reference: "orderly-t1-0" },
    ]);
  });
});

describe("the Billy mock's DELETE /invoices/:id", () => {
  const send = (mock: ReturnType<typeof createBillyMock>, path: string, body?: string) =>
    mock.handle(
      new Request(`https://billy.test${path}`, {
        method: "DELETE",
        headers: { "x-access-token": "billy-token", ...(body ? { "content-type": "application/json" } : {}) },
        ...(body ? { body } : {}),
      }),
    );

  it("deletes a draft with its lines and lists them, is idempotent, refuses a body and an approved invoice", async () => {
    const mock = createBillyMock({ products: PRODUCTS });
    installBillyMock(mock);
    const draft = await run(createInvoice, danishOrder());
    const booked = await run(createInvoice, danishOrder(), BOOKED, { reference: "orderly-bbbb-0" });
    const draftId = draft.result.outputs.invoiceId as string;
    const lineIds = mock.linesOf(draftId).map((l) => l.id);

    const withBody = await send(mock, `/invoices/${draftId}`, "{}");
    expect(withBody.status).toBe(400);

    const deleted = await send(mock, `/invoices/${draftId}`);
    expect(deleted.status).toBe(200);
    expect(await deleted.json()).toEqual({ meta: { deletedRecords: { invoices: [draftId], invoiceLines: lineIds } } });

    const again = await send(mock, `/invoices/${draftId}`);
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ meta: { deletedRecords: {} } });

    const refused = await send(mock, `/invoices/${booked.result.outputs.invoiceId}`);
    expect(refused.status).toBe(422);
    expect(await refused.json()).toMatchObject({ errorCode: "INVOICE_NOT_DRAFT" });

    const unauthenticated = await mock.handle(new Request(`https://billy.test/invoices/${draftId}`, { method: "DELETE" }));
    expect(unauthenticated.status).toBe(401);
  });
});
