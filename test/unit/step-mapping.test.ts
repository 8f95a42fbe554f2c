/**
 * A step's mapping: what it makes of the canonical input, what it may not change, its bounds, and
 * every recipe of docs/mapping.md (written here exactly as there).
 */
import { describe, expect, it } from "vitest";
import { checkFilter, evaluateFilter } from "../../src/domain/flow-filter";
import { type CanonicalOrder, type CanonicalRefund, orderSchema, type TransferInput } from "../../src/domain/order";
import { applyMapping, checkMapping, MAPPING_SNAPSHOT_MAX, mappingSnapshot } from "../../src/domain/step-mapping";
import { MAPPING_EXAMPLE } from "../../src/worker/routes/ui/flows/flow-form";

const order: CanonicalOrder = orderSchema.parse({
  source: {
    connector: "shopify",
    orderId: "820982911946154508",
    orderNumber: "#1001",
    version: 1,
    createdAt: "2026-11-01T10:00:00Z",
  },
  stage: "paid",
  currency: "DKK",
  pricesIncludeTax: true,
  customer: { email: "ane@example.dk", firstName: "Ane", lastName: "Lund" },
  billingAddress: { name: "Ane Lund", country: "DK" },
  lines: [
    { id: "1", sku: "TS-1", title: "T-shirt", quantity: 1, unitPrice: 19900, discount: 0, tax: 3980, taxRateBp: 2500 },
    { id: "2", sku: "GIFT-WRAP", title: "Gift wrap", quantity: 1, unitPrice: 0, discount: 0, tax: 0, taxRateBp: 2500 },
    { id: "3", title: "Custom print", quantity: 1, unitPrice: 5000, discount: 0, tax: 1000, taxRateBp: 2500 },
  ],
  shipping: [],
  discounts: [],
  payments: [{ gateway: "quickpay", amount: 24900, status: "paid" }],
  totals: { total: 24900, tax: 4980, discounts: 0, shipping: 0 },
  tags: ["retail", "vat:DK12345678"],
});
const input: TransferInput = { order };

async function mapped(mapping: string, from: TransferInput = input, previous: unknown[] = []) {
  const text = checkMapping(mapping, 0);
  expect(text).not.toBeNull();
  const outcome = await applyMapping(text!, from, previous as never[]);
  if ("error" in outcome) throw new Error(outcome.error);
  return outcome.input;
}

async function failure(mapping: string, from: TransferInput = input) {
  const outcome = await applyMapping(checkMapping(mapping, 0)!, from, []);
  expect(outcome).toHaveProperty("error");
  return (outcome as { error: string }).error;
}

describe("docs/mapping.md recipes", () => {
  it("puts the shop's order number in the note", async () => {
    const out = await mapped('$ ~> |order|{"note": "Shop order " & source.orderNumber}|');
    expect(out.order.note).toBe("Shop order #1001");
    // The transform copies: everything else is the order as it came, and the input is untouched.
    expect({ ...out.order, note: undefined }).toEqual({ ...order, note: undefined });
    expect(order.note).toBeUndefined();
  });

  it("drops a free line by SKU, keeping lines without one", async () => {
    const out = await mapped('$ ~> |order|{"lines": lines[$not(sku = "GIFT-WRAP")][]}|');
    expect(out.order.lines.map((l) => l.id)).toEqual(["1", "3"]);
  });

  it("takes the customer's VAT number from a tag", async () => {
    const recipe =
      '$ ~> |order[tags[$substring($, 0, 4) = "vat:"]]|{"customer": $merge([$type(customer) = "object" ? customer : {}, {"vatNumber": $substringAfter(tags[$substring($, 0, 4) = "vat:"][0], "vat:")}])}|';
    const out = await mapped(recipe);
    expect(out.order.customer).toEqual({ ...order.customer, vatNumber: "DK12345678" });
    // An order without such a tag goes through as it is.
    const untagged = { order: { ...order, tags: ["retail"] } };
    expect(await mapped(recipe, untagged)).toEqual(untagged);
    // An order without a customer gets one with the VAT number only.
    expect((await mapped(recipe, { order: { ...order, customer: null } })).order.customer).toEqual({ vatNumber: "DK12345678" });
  });

  it("prefixes every line's title", async () => {
    const out = await mapped('$ ~> |order.lines|{"title": "Webshop: " & title}|');
    expect(out.order.lines.map((l) => l.title)).toEqual(["Webshop: T-shirt", "Webshop: Gift wrap", "Webshop: Custom print"]);
  });

  it("puts every consumer order on one customer, leaving businesses as they are", async () => {
    const recipe =
      '$ ~> |order[$not($exists(customer.vatNumber))]|{"customer": {"company": "Webshop customers", "email": "webshop@example.dk"}}|';
    const out = await mapped(recipe);
    expect(out.order.customer).toEqual({ company: "Webshop customers", email: "webshop@example.dk" });
    expect(out.order.billingAddress).toEqual(order.billingAddress);
    const business = { order: { ...order, customer: { company: "Lund ApS", vatNumber: "DK11111111" } } };
    expect(await mapped(recipe, business)).toEqual(business);
  });
});

describe("a step's mapping", () => {
  it("keeps the refund, and may change it", async () => {
    const refund = {
      source: { connector: "shopify", orderId: order.source.orderId, refundId: "r1", createdAt: "2026-11-02T10:00:00Z" },
      currency: "DKK",
      lines: [],
      shipping: 0,
      adjustments: 0,
      total: 1000,
    };
    const out = await mapped('$ ~> |order|{"note": "x"}|', { order, refund });
    expect(out.refund).toEqual(refund);
    const noted = await mapped('$ ~> |refund|{"note": "Returned: " & $$.order.source.orderNumber}|', { order, refund });
    expect(noted.refund?.note).toBe("Returned: #1001");
    expect(await failure('$ ~> |refund.source|{"refundId": "r2"}|', { order, refund })).toContain(
      'refund.source.refundId from "r1" to "r2"',
    );
  });

  it("reads what earlier steps on its connection returned, by index, through $$ (the whole input) inside a transform", async () => {
    const previous = [{ externalId: "4711", created: true, outputs: { invoiceId: 4711 } }, undefined];
    const out = await mapped(
      '$ ~> |order|{"note": "Invoice " & $string($$.previous[0].outputs.invoiceId) & ($exists($$.previous[1].externalId) ? " and more" : "")}|',
      input,
      previous,
    );
    expect(out.order.note).toBe("Invoice 4711");
  });

  it("refuses to change the order's identity, naming the field", async () => {
    expect(await failure('$ ~> |order.source|{"orderNumber": "INV-" & orderNumber}|')).toMatch(
      /changed order\.source\.orderNumber from "#1001" to "INV-#1001", which a mapping may not/,
    );
    expect(await failure('$ ~> |order|{"currency": "EUR"}|')).toContain("order.currency");
    expect(await failure('$ ~> |order.source|{"orderId": "1"}|')).toContain("order.source.orderId");
    expect(await failure('$ ~> |order.source|{"connector": "woocommerce"}|')).toContain("order.source.connector");
  });

  it("refuses a change to what the customer paid or how, naming the field and what it may change instead", async () => {
    const may = "A mapping may move amounts between lines of the same VAT rate";
    const cases: Array<[string, string]> = [
      ['$ ~> |order.totals|{"total": $round(total / 2), "tax": $round(tax / 2)}|', "order.totals.total from 24900 to 12450"],
      ['$ ~> |order.totals|{"tax": 0}|', "order.totals.tax from 4980 to 0"],
      ['$ ~> |order|{"pricesIncludeTax": false}|', "order.pricesIncludeTax from true to false"],
      ['$ ~> |order|{"exchange": {"shopCurrency": "EUR", "rate": "0.2"}}|', "order.exchange from absent to"],
      ['$ ~> |order.payments|{"amount": 100}|', "order.payments"],
      ['$ ~> |order|{"financialStatus": "paid"}|', "order.financialStatus"],
      ['$ ~> |order.source|{"createdAt": "2025-12-31T10:00:00Z"}|', "order.source.createdAt"],
      ['$ ~> |order.source|{"version": 2}|', "order.source.version from 1 to 2"],
      ['$ ~> |order|{"stage": "fulfilled"}|', 'order.stage from "paid" to "fulfilled"'],
      // Zero the VAT on the lines, keeping the totals: the invoice would still "equal what was paid".
      ['$ ~> |order.lines|{"tax": 0}|', "the VAT at 25% (order lines, shipping and fees, summed) from 4980 to 0"],
      // 50.00 moved from the 25 % rate to 0 %, the VAT left at 25 %: the same total and VAT, sales at another rate.
      [
        '$ ~> |order|{"lines": [lines[0] ~> |$|{"unitPrice": 14900, "tax": 4980}|, lines[1], lines[2] ~> |$|{"taxRateBp": 0, "unitPrice": 10000, "tax": 0}|]}|',
        "the amount at 25% (order lines, shipping and fees, summed) from 24900 to 14900",
      ],
      ['$ ~> |order.lines[0]|{"giftCard": true}|', "the VAT at 25%"],
    ];
    for (const [mapping, field] of cases) {
      const error = await failure(mapping);
      expect(error, mapping).toContain(`changed ${field}`);
      expect(error, mapping).toContain("which a mapping may not");
      expect(error, mapping).toContain(may);
    }
    // Amounts moved between lines of the same rate, a renamed line, a dropped free line, the texts: allowed.
    const moved = await mapped(
      '$ ~> |order|{"lines": [lines[0] ~> |$|{"unitPrice": 14900, "tax": 2980, "title": "Shirt"}|, lines[2] ~> |$|{"unitPrice": 10000, "tax": 2000}|]}|',
    );
    expect(moved.order.lines.map((l) => [l.title, l.unitPrice, l.tax])).toEqual([
      ["Shirt", 14900, 2980],
      ["Custom print", 10000, 2000],
    ]);
  });

  it("refuses a change to what a refund gave back, or to which lines it names", async () => {
    const refund: CanonicalRefund = {
      source: { connector: "shopify", orderId: order.source.orderId, refundId: "r1", createdAt: "2026-11-02T10:00:00Z" },
      currency: "DKK",
      lines: [{ lineId: "1", quantity: 1, subtotal: 15920, tax: 3980, restock: true }],
      shipping: 0,
      adjustments: 0,
      total: 19900,
      payments: [{ gateway: "quickpay", amount: 19900 }],
    };
    const from = { order, refund };
    const refused = async (mapping: string, field: string) =>
      expect(await failure(mapping, from), mapping).toContain(`changed ${field}`);
    await refused('$ ~> |refund|{"total": 100000, "payments": [{"gateway": "quickpay", "amount": 100000}]}|', "refund.total");
    await refused('$ ~> |refund|{"shipping": 4900}|', "refund.shipping from 0 to 4900");
    await refused('$ ~> |refund|{"shippingTax": 980}|', "refund.shippingTax");
    await refused('$ ~> |refund|{"adjustments": -500}|', "refund.adjustments");
    await refused('$ ~> |refund|{"duties": 500}|', "refund.duties");
    await refused('$ ~> |refund.payments|{"gateway": "stripe"}|', "refund.payments");
    await refused('$ ~> |refund.lines|{"lineId": "3"}|', 'refund.lines[].lineId from ["1"] to ["3"]');
    await refused('$ ~> |refund.lines|{"tax": 0, "subtotal": 19900}|', "the VAT at 25% (refund lines, summed) from 3980 to 0");
    await refused('$ ~> |refund.source|{"createdAt": "2027-01-01T00:00:00Z"}|', "refund.source.createdAt");
    // Its note and a line's restock are the mapping's to change.
    const noted = await mapped('$ ~> |refund|{"note": "Returned"}| ~> |refund.lines|{"restock": false}|', from);
    expect(noted.refund).toMatchObject({ note: "Returned", total: 19900, lines: [{ restock: false }] });
  });

  it("refuses the clock and chance when saved (a mapping runs on every attempt); a filter may still read the clock", async () => {
    for (const fn of ["$now()", "$millis()", "$random()", "$shuffle(order.lines)"]) {
      let error: { code?: string; message?: string } | undefined;
      try {
        checkMapping(`$ ~> |order|{"note": $string(${fn})}|`, 0);
      } catch (e) {
        error = e as typeof error;
      }
      expect(error?.code, fn).toBe("flow_mapping_invalid");
      expect(error?.message, fn).toContain(`Step 1: mapping: ${fn.slice(0, fn.indexOf("("))} is not allowed in a mapping`);
      expect(error?.message, fn).toContain("a mapping runs on every attempt and must give the same result each time");
    }
    // A stored one (saved before the check) fails its step rather than send a different body.
    const stored = await applyMapping('$ ~> |order|{"note": $string($millis())}|', input, []);
    expect(stored).toEqual({ error: expect.stringContaining("$millis is not allowed in a mapping") });
    expect(checkFilter("$now() > order.source.createdAt")).toBe("$now() > order.source.createdAt");
    expect(await evaluateFilter("$now() > order.source.createdAt", input)).toEqual({ match: true });
  });

  it("charges the transform's copy to the step budget, in proportion to what it copies", async () => {
    // 200,000 characters in one string: quick to copy, so only the charge (not the clock) can stop a loop of copies.
    const large = { order: { ...order, note: "n".repeat(200_000) } };
    // One copy is well inside the budget (about 8,000 steps).
    expect((await mapped('$ ~> |order|{"note": "one"}|', large)).order.note).toBe("one");
    // Twenty copies of it are not (about 160,000 steps); before, each copy was one step.
    const loop =
      '$ ~> |order|{"note": $string($count($map([1..20], function($i) { $count(($$ ~> |order|{"tags": [$string($i)]}|).order.tags) })))}|';
    expect(await failure(loop, large)).toContain("Evaluation stopped after 100000 steps");
    // On an ordinary order the same loop is cheap.
    expect((await mapped(loop)).order.note).toBe("20");
  });

  it("runs the flow editor's example as the docs' first recipe: the order number, not an empty value", async () => {
    expect((await mapped(MAPPING_EXAMPLE.expression)).order.note).toBe("Shop order #1001");
  });

  it("refuses money that is not whole minor units, and a result that is no order", async () => {
    expect(await failure('$ ~> |order.lines[0]|{"unitPrice": unitPrice / 3}|')).toMatch(
      /order\.lines\[0\]\.unitPrice: .*minor units/,
    );
    expect(await failure('$ ~> |order.totals|{"total": "249.00"}|')).toContain("order.totals.total");
    // A lone line where a list belongs: JSONata's singleton, with the `[]` that fixes it.
    expect(await failure('$ ~> |order|{"lines": lines[sku = "TS-1"]}|')).toContain("end the path with []");
    expect(await failure("order.lines")).toContain("not an object with the order");
    expect(await failure('{"refund": {}}')).toContain("has no `order`");
    expect(await failure("$x")).toContain("returned nothing");
  });

  it("fails with JSONata's message on a runtime error, and is bounded like a filter", async () => {
    expect(await failure('$ ~> |order|{"note": order.totals.total + "x"}|')).toContain("must evaluate to a number");
    expect(await failure("( $f := function($n) { $f($n + 1) }; $f(0) )")).toMatch(/Evaluation stopped after 100000 steps/);
    expect(await failure('$ ~> |order|{"note": $pad("x", 50000000)}|')).toContain("a mapping may pad to at most 1000");
    // The cached expression still runs after a bound stopped an evaluation.
    expect((await mapped('$ ~> |order|{"note": "ok"}|')).order.note).toBe("ok");
  });

  it("is checked when saved: trimmed, null for none, refused naming the step with JSONata's position", () => {
    expect(checkMapping("  $  ", 0)).toBe("$");
    expect(checkMapping("", 1)).toBeNull();
    expect(checkMapping(null, 1)).toBeNull();
    expect(checkMapping(undefined, 1)).toBeNull();
    const refused = (text: string) => {
      try {
        checkMapping(text, 1);
      } catch (error) {
        return error as { code: string; message: string; details: unknown };
      }
      throw new Error("not refused");
    };
    const parse = refused("$ ~> |order|{");
    expect(parse.code).toBe("flow_mapping_invalid");
    expect(parse.message).toMatch(/^Step 2: mapping: the JSONata expression does not parse: .*at character \d+/);
    expect(parse.details).toMatchObject({ step: 2, jsonata: expect.any(String), position: expect.any(Number) });
    expect(refused('$ ~> |order|{"note": $replace(note, /a+/, "b")}|').message).toContain(
      "regular expressions (/…/) are not allowed in a mapping",
    );
    expect(refused('$eval("1")').message).toContain("$eval is not allowed in a mapping");
    expect(refused("x".repeat(4001)).message).toContain("at most 4000");
  });

  it("keeps what it made in the step's history, its head only when large", () => {
    expect(mappingSnapshot(input)).toEqual({ madeBy: "the step's mapping", input });
    const large = { order: { ...order, note: "n".repeat(MAPPING_SNAPSHOT_MAX) } };
    const kept = mappingSnapshot(large) as { head: string; truncated: string };
    expect(kept.head).toHaveLength(MAPPING_SNAPSHOT_MAX);
    expect(kept.truncated).toContain("first");
  });
});
