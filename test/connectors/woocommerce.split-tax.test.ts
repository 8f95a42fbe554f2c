/**
 * A fee or shipping line whose tax WooCommerce split across several VAT rates (a negative fee always
 * is, on a mixed-rate cart) becomes one part per rate, so no line asks for a blended rate.
 */
import { describe, expect, it } from "vitest";
import { parse } from "../../src/connectors/woocommerce/woocommerce.parse";
import { accountingSettingsSchema } from "../../src/domain/accounting/accounting-settings";
import { buildInvoiceDocument } from "../../src/domain/accounting/build-document";
import type { CanonicalOrder } from "../../src/domain/order";
import { woocommerceDelivery, woocommerceFixture } from "../fixtures/woocommerce";

const SECRET = "test-secret";

async function orderOf(body: object): Promise<CanonicalOrder> {
  const events = parse(await woocommerceDelivery("order.updated", body, SECRET));
  if (!Array.isArray(events) || events[0]?.object.type !== "order") throw new Error("expected an order event");
  return events[0].object.order;
}

type Charge = { total: string; total_tax: string; taxes: Array<{ id: number; total: string }> };

function withFee(fee: Charge): Record<string, unknown> {
  const body = woocommerceFixture("orderNegativeFeeSplit");
  const [first] = body.fee_lines as Record<string, unknown>[];
  body.fee_lines = [{ ...first, ...fee }];
  return body;
}

describe("WooCommerce charges taxed at several rates", () => {
  it("splits a negative fee into one part per rate: tax from each entry, net worked back from its rate", async () => {
    const order = await orderOf(woocommerceFixture("orderNegativeFeeSplit"));
    // -0.633333 / 19 % = -3.33 net, -0.116667 / 7 % = -1.67 net: together the fee's -5.00 and -0.75.
    expect(order.fees).toStrictEqual([
      { title: "Loyalty discount (19 %)", amount: -333, tax: -63, taxRateBp: 1900 },
      { title: "Loyalty discount (7 %)", amount: -167, tax: -12, taxRateBp: 700 },
    ]);
  });

  it("makes an invoice with only the order's own rates that adds up to what the customer paid", async () => {
    const order = await orderOf(woocommerceFixture("orderNegativeFeeSplit"));
    const doc = buildInvoiceDocument(order, accountingSettingsSchema.parse({ homeCountry: "DE" }));
    // Without the split the fee asked for 15 % (its -0.75 over -5.00), which no VAT code has.
    expect(new Set(doc.lines.map((l) => l.vatRateBp))).toEqual(new Set([1900, 700]));
    expect(doc.mismatch).toBeUndefined();
    expect(doc.difference).toBe(0);
    expect(doc.totals).toEqual({ net: 5990, vat: 918, total: 6908 });
  });

  it("keeps the parts' sum equal to the fee on a tax-inclusive order too, gross each", async () => {
    const order = await orderOf({ ...woocommerceFixture("orderNegativeFeeSplit"), prices_include_tax: true });
    expect(order.fees).toStrictEqual([
      { title: "Loyalty discount (19 %)", amount: -396, tax: -63, taxRateBp: 1900 },
      { title: "Loyalty discount (7 %)", amount: -179, tax: -12, taxRateBp: 700 },
    ]);
  });

  it("puts the rounding remainder on the last part when the entries' taxes are rounded", async () => {
    // 2/3 and 1/3 of -10.00: -1.27 / 19 % is -6.68 and -0.23 / 7 % is -3.29, 0.03 short of -10.00.
    const order = await orderOf(
      withFee({
        total: "-10.00",
        total_tax: "-1.50",
        taxes: [
          { id: 1, total: "-1.27" },
          { id: 2, total: "-0.23" },
        ],
      }),
    );
    expect(order.fees).toStrictEqual([
      { title: "Loyalty discount (19 %)", amount: -668, tax: -127, taxRateBp: 1900 },
      { title: "Loyalty discount (7 %)", amount: -332, tax: -23, taxRateBp: 700 },
    ]);
  });

  it("gives the share of untaxed cart items its own part without VAT", async () => {
    // A cart of 40.00 at 19 %, 20.00 at 7 % and 20.00 untaxed: -6.00 is -3.00, -1.50 and -1.50.
    const order = await orderOf(
      withFee({
        total: "-6.00",
        total_tax: "-0.68",
        taxes: [
          { id: 1, total: "-0.57" },
          { id: 2, total: "-0.105" },
        ],
      }),
    );
    expect(order.fees).toStrictEqual([
      { title: "Loyalty discount (19 %)", amount: -300, tax: -57, taxRateBp: 1900 },
      { title: "Loyalty discount (7 %)", amount: -150, tax: -11, taxRateBp: 700 },
      { title: "Loyalty discount (no VAT)", amount: -150, tax: 0 },
    ]);
  });

  it("leaves a charge taxed at stacked rates (each on the whole amount) whole, as before", async () => {
    const order = await orderOf(
      withFee({
        total: "10.00",
        total_tax: "2.60",
        taxes: [
          { id: 1, total: "1.90" },
          { id: 2, total: "0.70" },
        ],
      }),
    );
    expect(order.fees).toStrictEqual([{ title: "Loyalty discount", amount: 1000, tax: 260 }]);
  });

  it("keeps a fee taxed at one rate one fee", async () => {
    const order = await orderOf(withFee({ total: "-2.00", total_tax: "-0.38", taxes: [{ id: 1, total: "-0.38" }] }));
    expect(order.fees).toStrictEqual([{ title: "Loyalty discount", amount: -200, tax: -38, taxRateBp: 1900 }]);
  });

  it("splits a shipping line taxed by the cart's mix of rates the same way", async () => {
    const body = woocommerceFixture("orderNegativeFeeSplit");
    const [line] = body.shipping_lines as Record<string, unknown>[];
    body.shipping_lines = [
      {
        ...line,
        total: "6.00",
        total_tax: "0.90",
        taxes: [
          { id: 1, total: "0.76", subtotal: "" },
          { id: 2, total: "0.14", subtotal: "" },
        ],
      },
    ];
    const order = await orderOf(body);
    expect(order.shipping).toStrictEqual([
      { title: "DHL Paket (19 %)", code: "flat_rate", price: 400, discount: 0, tax: 76, taxRateBp: 1900 },
      { title: "DHL Paket (7 %)", code: "flat_rate", price: 200, discount: 0, tax: 14, taxRateBp: 700 },
    ]);
  });
});
