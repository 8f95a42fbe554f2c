/**
 * A totals mismatch keeps the Billy draft and fails the step, but a person may approve the draft
 * anyway. The step's re-run then finds the approved invoice (or credit note) and reports what the
 * customer paid (or got back) among its `differences`, which the differences sweep alerts
 * (docs/accounting.md, "Cents differences and mismatches"); the approved document is not touched.
 */
import { describe, expect, it } from "vitest";
import { createCreditNote, createInvoice } from "../../src/connectors/billy";
import { createBillyMock, installBillyMock } from "../mocks/billy.mock";
import {
  BILLY_BASE,
  BILLY_TOKEN,
  danishOrder,
  failure,
  historyEntry,
  PRODUCTS,
  refund,
  run,
  SETTINGS,
} from "../mocks/billy.mock.fixtures";

const BOOKED = { ...SETTINGS, invoiceState: "booked" };
const REF_R1 = "orderly-11111111111111111111111111111111-0";

function billy() {
  const mock = createBillyMock({ products: PRODUCTS });
  installBillyMock(mock);
  return mock;
}

/** What a person does in Billy: approve the draft a failed step left. */
async function approveByPerson(mock: ReturnType<typeof billy>, id: string): Promise<void> {
  const response = await mock.handle(
    new Request(`${BILLY_BASE}/invoices/${id}`, {
      method: "PUT",
      headers: { "x-access-token": BILLY_TOKEN, "content-type": "application/json" },
      body: JSON.stringify({ invoice: { state: "approved" } }),
    }),
  );
  expect(response.ok).toBe(true);
}

describe("Billy: a document with a totals mismatch that a person approved", () => {
  it("createInvoice reports what the customer paid among its differences, and writes nothing", async () => {
    const mock = billy();
    // The customer paid 300.00; the lines make 248.00.
    const order = danishOrder({ totals: { total: 30000, tax: 4960, discounts: 0, shipping: 4900 } });
    const error = await failure(run(createInvoice, order, BOOKED));
    expect(error.code).toBe("invoice_totals_mismatch");
    await approveByPerson(mock, "inv-3");
    const writes = mock.writes().length;

    const { result } = await run(createInvoice, order, BOOKED);

    expect(result).toMatchObject({
      externalId: "inv-3",
      created: false,
      outputs: {
        state: "approved",
        updated: false,
        differences: [
          "total: 248.00 DKK on approved invoice 1001 → 300.00 DKK, what the customer paid for order #1001 (booked despite the totals mismatch)",
        ],
      },
    });
    expect(mock.writes()).toHaveLength(writes);
  });

  it("createCreditNote reports what was refunded when a person approved the credit note", async () => {
    const mock = billy();
    const invoice = await run(createInvoice, danishOrder(), BOOKED);
    const history = [historyEntry("createInvoice", invoice.result)];
    const tooMuch = refund({ total: 25000 });
    const error = await failure(run(createCreditNote, danishOrder(), BOOKED, { reference: REF_R1, history, refund: tooMuch }));
    expect(error.code).toBe("invoice_totals_mismatch");
    const draft = mock.state.invoices.find((i) => i.type === "creditNote");
    await approveByPerson(mock, String(draft?.id));

    const { result } = await run(createCreditNote, danishOrder(), BOOKED, { reference: REF_R1, history, refund: tooMuch });

    expect(result.outputs).toMatchObject({
      state: "approved",
      differences: [
        "total: 199.00 DKK on approved credit note 1002 → 250.00 DKK, what was refunded for order #1001 (booked despite the totals mismatch)",
      ],
    });
  });

  it("an approved credit note without a mismatch carries no differences, as before", async () => {
    billy();
    const invoice = await run(createInvoice, danishOrder(), BOOKED);
    const history = [historyEntry("createInvoice", invoice.result)];
    await run(createCreditNote, danishOrder(), BOOKED, { reference: REF_R1, history, refund: refund() });

    const { result } = await run(createCreditNote, danishOrder(), BOOKED, { reference: REF_R1, history, refund: refund() });

    expect(result.outputs.state).toBe("approved");
    expect(result.outputs).not.toHaveProperty("differences");
  });
});
