import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import { z } from "zod";
import type { IgnoredDelivery, IncomingDelivery, SourceEvent } from "../../src/connectors/contract";
import { fingerprint, parse, route } from "../../src/connectors/woocommerce/woocommerce.parse";
import { OrderlyError } from "../../src/domain/errors";
import { type CanonicalRefund, orderSchema } from "../../src/domain/order";
import { woocommerceDelivery, woocommerceFixture, woocommerceFixtures } from "../fixtures/woocommerce";

const SECRET = "test-secret";

async function events(topic: string, body: string | object, headers: Record<string, string | null> = {}): Promise<SourceEvent[]> {
  const parsed = parse(await woocommerceDelivery(topic, body, SECRET, headers));
  if (!Array.isArray(parsed)) throw new Error(`expected events, got ignored: ${parsed.reason}`);
  return parsed;
}

async function first(topic: string, body: string | object, headers: Record<string, string | null> = {}): Promise<SourceEvent> {
  const [event] = await events(topic, body, headers);
  if (!event) throw new Error("expected an event");
  return event;
}

function refundOf(event: SourceEvent | undefined): CanonicalRefund {
  if (event?.object.type !== "refund") throw new Error("expected a refund event");
  return event.object.refund;
}

/** The OrderlyError `read` (parse, by default) throws for a delivery. */
function parseError(delivery: IncomingDelivery, read: (delivery: IncomingDelivery) => unknown = parse): OrderlyError {
  try {
    read(delivery);
  } catch (error) {
    if (error instanceof OrderlyError) return error;
    throw error;
  }
  throw new Error("expected it to throw");
}

describe("WooCommerce stages", () => {
  const cases: Array<{ status: string; stage: string; why: string }> = [
    { status: "pending", stage: "created", why: "an order awaiting payment is created" },
    { status: "on-hold", stage: "created", why: "an order on hold (bank transfer) is created" },
    { status: "failed", stage: "created", why: "a failed payment leaves the order created" },
    { status: "processing", stage: "paid", why: "a processing order is paid" },
    { status: "completed", stage: "completed", why: "a completed order is completed" },
    { status: "cancelled", stage: "cancelled", why: "a cancelled order is cancelled" },
    { status: "trash", stage: "cancelled", why: "a trashed order is cancelled" },
  ];

  for (const { status, stage, why } of cases) {
    it(`${status}: ${why}`, async () => {
      const event = await first("order.updated", { ...woocommerceFixture("orderTaxExclusive"), status });
      expect(event.stage).toBe(stage);
      expect(event.object.type === "order" && event.object.order.stage).toBe(stage);
      expect(event.object.type === "order" && event.object.order.financialStatus).toBe(status);
    });
  }

  it("refunded: a refunded order that was paid is paid (its refunds come as their own events), one never paid cancelled", async () => {
    const unpaid = { ...woocommerceFixture("orderTaxExclusive"), status: "refunded" };
    const cancelled = await first("order.updated", unpaid);
    expect(cancelled.stage).toBe("cancelled");
    expect(cancelled.object.type === "order" && cancelled.object.order.financialStatus).toBe("cancelled");
    const paid = await first("order.updated", {
      ...unpaid,
      date_paid: "2026-03-02T09:20:00",
      date_paid_gmt: "2026-03-02T08:20:00",
    });
    expect(paid.stage).toBe("paid");
    expect(paid.object.type === "order" && paid.object.order.financialStatus).toBe("refunded");
  });

  it("reads a plugin's own status as paid once WooCommerce recorded a payment, else as created", async () => {
    const unpaid = { ...woocommerceFixture("orderTaxExclusive"), status: "awaiting-shipment" };
    expect((await first("order.updated", unpaid)).stage).toBe("created");
    const paid = { ...unpaid, date_paid: "2026-03-02T09:20:00", date_paid_gmt: "2026-03-02T08:20:00" };
    expect((await first("order.updated", paid)).stage).toBe("paid");
  });

  it("accepts a status written with WooCommerce's internal wc- prefix", async () => {
    expect((await first("order.updated", { ...woocommerceFixture("orderTaxExclusive"), status: "wc-processing" })).stage).toBe(
      "paid",
    );
  });

  it("ignores a block-checkout draft (checkout-draft): the shopper has not placed it yet", async () => {
    for (const status of ["checkout-draft", "wc-checkout-draft"]) {
      for (const topic of ["order.updated", "order.created"]) {
        const body = { ...woocommerceFixture("orderTaxExclusive"), status };
        expect(parse(await woocommerceDelivery(topic, body, SECRET)), `${topic} ${status}`).toEqual({
          ignored: true,
          code: "checkout_draft",
          orderId: "4102",
          reason: expect.stringMatching(/order 4102 is a checkout draft.*nothing to book/),
        });
      }
    }
  });

  it("ignores a half-filled checkout draft that an order's schema would refuse", async () => {
    const { currency: _currency, line_items: _items, ...body } = woocommerceFixture("orderTaxExclusive");
    expect(parse(await woocommerceDelivery("order.updated", { ...body, status: "checkout-draft" }, SECRET))).toMatchObject({
      ignored: true,
      code: "checkout_draft",
    });
  });

  it("reads a cash-on-delivery order as created, its payment pending, until it is completed", async () => {
    // WooCommerce's COD gateway sets processing and date_paid at checkout, before any cash is collected.
    const cod = {
      ...woocommerceFixture("orderCompleted"),
      payment_method: "cod",
      payment_method_title: "Cash on delivery",
      transaction_id: "",
      date_completed: null,
      date_completed_gmt: null,
    };
    const completedAt = { date_completed: "2026-03-05T16:00:01", date_completed_gmt: "2026-03-05T15:00:01" };
    for (const status of ["processing", "wc-processing", "awaiting-shipment"]) {
      const event = await first("order.updated", { ...cod, status });
      expect(event.stage, status).toBe("created");
      expect(event.object.type === "order" && event.object.order.payments, status).toEqual([
        { gateway: "cod", method: "Cash on delivery", status: "pending" },
      ]);
    }
    const completed = await first("order.updated", { ...cod, ...completedAt, status: "completed" });
    expect(completed.stage).toBe("completed");
    expect(completed.object.type === "order" && completed.object.order.payments).toEqual([
      { gateway: "cod", method: "Cash on delivery", amount: 48810, status: "paid" },
    ]);
    // Refunded after it was completed: the cash was taken (date_completed stays once set).
    expect((await first("order.updated", { ...cod, ...completedAt, status: "refunded" })).stage).toBe("paid");
    // Another gateway's processing order is paid, as before.
    expect((await first("order.updated", { ...cod, payment_method: "quickpay", status: "processing" })).stage).toBe("paid");
  });

  it("order.restored reads the stage from the restored order's status", async () => {
    expect((await first("order.restored", woocommerceFixtures.orderCompleted)).stage).toBe("completed");
  });
});

describe("WooCommerce deletions", () => {
  it("acknowledges order.deleted carrying only the order's id and books nothing", async () => {
    const parsed = parse(await woocommerceDelivery("order.deleted", { id: 4102 }, SECRET));
    expect(parsed).toEqual({
      ignored: true,
      reason: expect.stringMatching(/order 4102 was trashed or deleted.*nothing to book/),
    });
    expect((parsed as IgnoredDelivery).ignored).toBe(true);
  });

  it("cancels an order when order.deleted carries the whole order, whatever its last status", async () => {
    const event = await first("order.deleted", woocommerceFixtures.orderCompleted);
    expect(event).toMatchObject({ topic: "order.deleted", orderId: "5210", stage: "cancelled" });
  });

  it("refuses an order.deleted body without an id", async () => {
    const error = parseError(await woocommerceDelivery("order.deleted", { foo: 1 }, SECRET));
    expect(error).toMatchObject({ errorClass: "validation", code: "woocommerce_payload_invalid" });
    expect(error.message).toMatch(/id is missing/);
  });
});

describe("WooCommerce delivery identity and version", () => {
  it("joins the webhook id and delivery id into the delivery id, and gives no event key to the order event", async () => {
    const event = await first("order.created", woocommerceFixtures.orderTaxExclusive, {
      "x-wc-webhook-id": "12",
      "x-wc-webhook-delivery-id": "5e3f0c9a1b2d4e6f8a0b1c2d3e4f5a6b",
    });
    expect(event.deliveryId).toMatch(/^12:5e3f0c9a1b2d4e6f8a0b1c2d3e4f5a6b:[0-9a-f]{16}$/);
    expect("eventKey" in event).toBe(false);
    expect(event.topic).toBe("order.created");
  });

  it("keeps two different bodies with the same delivery id (one second apart in WooCommerce) apart", async () => {
    const headers = { "x-wc-webhook-id": "12", "x-wc-webhook-delivery-id": "same-second" };
    const a = await first("order.updated", woocommerceFixtures.orderTaxExclusive, headers);
    const b = await first("order.updated", woocommerceFixtures.orderCompleted, headers);
    const again = await first("order.updated", woocommerceFixtures.orderTaxExclusive, headers);
    expect(a.deliveryId).not.toBe(b.deliveryId);
    expect(again.deliveryId).toBe(a.deliveryId);
  });

  it("gives order.created and order.updated of one checkout different delivery ids but the same version", async () => {
    const created = await first("order.created", woocommerceFixtures.orderTaxExclusive, { "X-WC-Webhook-ID": "12" });
    const updated = await first("order.updated", woocommerceFixtures.orderTaxExclusive, { "X-WC-Webhook-ID": "13" });
    expect(created.deliveryId).not.toBe(updated.deliveryId);
    expect(created.version).toBe(updated.version);
  });

  it("versions an order by date_modified_gmt, then date_modified, then date_created_gmt, all read as UTC", async () => {
    const body = woocommerceFixture("orderTaxExclusive");
    expect((await first("order.updated", body)).version).toBe(Date.UTC(2026, 2, 2, 8, 15, 4));
    body.date_modified_gmt = null;
    expect((await first("order.updated", body)).version).toBe(Date.UTC(2026, 2, 2, 9, 15, 4));
    body.date_modified = null;
    expect((await first("order.updated", body)).version).toBe(Date.UTC(2026, 2, 2, 8, 15, 0));
  });

  it("gives a later update of the same order a higher version", async () => {
    const body = woocommerceFixture("orderTaxExclusive");
    const earlier = await first("order.updated", body);
    const later = await first("order.updated", { ...body, date_modified_gmt: "2026-03-02T08:16:00" });
    expect(later.version).toBeGreaterThan(earlier.version);
  });

  it("keeps a date that already names its zone as it is", async () => {
    const body = { ...woocommerceFixture("orderTaxExclusive"), date_modified_gmt: "2026-03-02T09:15:04+01:00" };
    expect((await first("order.updated", body)).version).toBe(Date.UTC(2026, 2, 2, 8, 15, 4));
  });
});

describe("WooCommerce refunds", () => {
  it("emits a partial refund on a processing order as its own refunded event after the order's", async () => {
    const parsed = await events("order.updated", woocommerceFixtures.orderPartialRefund, {
      "X-WC-Webhook-ID": "7",
      "X-WC-Webhook-Delivery-ID": "d1",
    });
    expect(parsed.map((e) => [e.stage, e.object.type])).toEqual([
      ["paid", "order"],
      ["refunded", "refund"],
    ]);
    const version = Date.UTC(2026, 2, 7, 10, 45, 10);
    expect(parsed[1]).toMatchObject({
      deliveryId: expect.stringMatching(/^7:d1:[0-9a-f]{16}:refund:7351$/),
      eventKey: "woocommerce-refund:7300:7351",
      topic: "order.updated",
      orderId: "7300",
      occurrence: "7351",
      version,
    });
    expect(refundOf(parsed[1])).toStrictEqual({
      // The order's last modification, in the shop's time.
      source: { connector: "woocommerce", orderId: "7300", refundId: "7351", createdAt: "2026-03-07T11:45:10+01:00" },
      currency: "EUR",
      lines: [],
      shipping: 0,
      adjustments: 0,
      total: 1000,
      note: "One cup arrived broken",
    });
  });

  it("gives the same refund the same event key in every later delivery, so it counts once", async () => {
    const first = await events("order.updated", woocommerceFixtures.orderPartialRefund);
    const later = await events("order.updated", {
      ...woocommerceFixture("orderPartialRefund"),
      status: "completed",
      date_modified_gmt: "2026-03-09T08:00:00",
    });
    expect(first[1]?.eventKey).toBe(later[1]?.eventKey);
    expect(first[1]?.occurrence).toBe(later[1]?.occurrence);
    expect(first[1]?.deliveryId).not.toBe(later[1]?.deliveryId);
  });

  it("maps a fully refunded order to paid plus one refunded event per refund, the money positive", async () => {
    const parsed = await events("order.updated", woocommerceFixtures.orderRefunded);
    expect(parsed.map((e) => [e.stage, e.occurrence])).toEqual([
      ["paid", ""],
      ["refunded", "3011"],
      ["refunded", "3010"],
    ]);
    expect(parsed.slice(1).map((e) => e.eventKey)).toEqual(["woocommerce-refund:3001:3011", "woocommerce-refund:3001:3010"]);
    const [rest, broken] = [refundOf(parsed[1]), refundOf(parsed[2])];
    // An empty reason is no note.
    expect(rest).toMatchObject({ total: 4000, currency: "EUR", lines: [] });
    expect(rest.note).toBeUndefined();
    expect(broken).toMatchObject({ total: 1800, note: "Handle broke" });
    // Together the refunds return what the customer paid.
    expect(rest.total + broken.total).toBe(5800);
  });

  it("skips a refund of 0.00 (a restock without money back): there is nothing to credit", async () => {
    const body = {
      ...woocommerceFixture("orderPartialRefund"),
      refunds: [
        { id: 7352, reason: "Restocked only", total: "0.00" },
        { id: 7351, reason: "One cup arrived broken", total: "-10.00" },
      ],
    };
    const parsed = await events("order.updated", body);
    expect(parsed.map((e) => [e.stage, e.occurrence])).toEqual([
      ["paid", ""],
      ["refunded", "7351"],
    ]);
    expect(refundOf(parsed[1])).toMatchObject({ total: 1000 });
  });

  it("reads the reason from the key older WooCommerce versions used for it", async () => {
    const body = {
      ...woocommerceFixture("orderPartialRefund"),
      refunds: [{ id: 7351, refund: "Late delivery", total: "-5.00" }],
    };
    expect(refundOf((await events("order.updated", body))[1])).toMatchObject({ total: 500, note: "Late delivery" });
  });
});

describe("WooCommerce deliveries that cannot be read", () => {
  it("refuses a delivery without a topic header, naming it", async () => {
    const error = parseError(
      await woocommerceDelivery("order.created", woocommerceFixtures.orderMinimal, SECRET, { "X-WC-Webhook-Topic": null }),
    );
    expect(error).toMatchObject({ errorClass: "validation", code: "woocommerce_topic_missing" });
    expect(error.message).toMatch(/X-WC-Webhook-Topic/);
  });

  it("refuses a topic Orderly does not handle, naming it", async () => {
    const error = parseError(await woocommerceDelivery("product.updated", { id: 1 }, SECRET));
    expect(error).toMatchObject({ errorClass: "validation", code: "woocommerce_topic_unsupported" });
    expect(error.message).toMatch(/"product\.updated"/);
  });

  it("refuses a delivery without X-WC-Webhook-Delivery-ID, naming the header", async () => {
    const error = parseError(
      await woocommerceDelivery("order.created", woocommerceFixtures.orderMinimal, SECRET, { "X-WC-Webhook-Delivery-ID": null }),
    );
    expect(error).toMatchObject({ errorClass: "validation", code: "woocommerce_delivery_id_missing" });
    expect(error.message).toMatch(/X-WC-Webhook-Delivery-ID/);
  });

  it("refuses a delivery without X-WC-Webhook-ID, naming the header", async () => {
    const error = parseError(
      await woocommerceDelivery("order.created", woocommerceFixtures.orderMinimal, SECRET, { "X-WC-Webhook-ID": null }),
    );
    expect(error).toMatchObject({ errorClass: "validation", code: "woocommerce_webhook_id_missing" });
    expect(error.message).toMatch(/X-WC-Webhook-ID/);
  });

  it("refuses a body that is not JSON", async () => {
    const error = parseError(await woocommerceDelivery("order.created", '{"id": 1, "status": ', SECRET));
    expect(error).toMatchObject({ errorClass: "validation", code: "woocommerce_body_not_json" });
    expect(error.message).toMatch(/not valid JSON/);
  });

  it("refuses a body that is not UTF-8", async () => {
    const error = parseError(await woocommerceDelivery("order.created", new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), SECRET));
    expect(error).toMatchObject({ errorClass: "validation", code: "woocommerce_body_not_json" });
  });

  it("refuses a payload that is a JSON array instead of an order", async () => {
    const error = parseError(await woocommerceDelivery("order.created", "[]", SECRET));
    expect(error).toMatchObject({ errorClass: "validation", code: "woocommerce_payload_invalid" });
    expect(error.message).toMatch(/the body/);
  });

  it("refuses an order without id or currency, naming each field", async () => {
    const { id: _id, currency: _currency, ...body } = woocommerceFixture("orderTaxExclusive");
    const error = parseError(await woocommerceDelivery("order.created", body, SECRET));
    expect(error).toMatchObject({ errorClass: "validation", code: "woocommerce_payload_invalid" });
    expect(error.message).toMatch(/order\.created payload is invalid: .*id is missing/);
    expect(error.message).toMatch(/currency is missing/);
  });

  it("refuses amounts that are not decimals, naming each field", async () => {
    const body = woocommerceFixture("orderTaxExclusive");
    body.total = "63,06";
    const items = body.line_items as Record<string, unknown>[];
    items[1] = { ...items[1], subtotal: "10.00 EUR" };
    const error = parseError(await woocommerceDelivery("order.created", body, SECRET));
    expect(error).toMatchObject({ errorClass: "validation", code: "woocommerce_payload_invalid" });
    expect(error.message).toMatch(/line_items\.1\.subtotal: must be a decimal amount/);
    expect(error.message).toMatch(/total: must be a decimal amount/);
  });

  it("refuses a line with a quantity that is not a whole number of at least 1", async () => {
    const body = woocommerceFixture("orderTaxExclusive");
    const items = body.line_items as Record<string, unknown>[];
    items[0] = { ...items[0], quantity: 0 };
    const error = parseError(await woocommerceDelivery("order.created", body, SECRET));
    expect(error.message).toMatch(/line_items\.0\.quantity: must be a whole number of at least 1/);
  });

  it("refuses an order without any readable date, since its version would be unknown", async () => {
    const body = { ...woocommerceFixture("orderMinimal"), date_paid: null };
    const error = parseError(await woocommerceDelivery("order.created", body, SECRET));
    expect(error).toMatchObject({ errorClass: "validation", code: "woocommerce_timestamp_missing" });
    expect(error.message).toMatch(/date_modified_gmt/);
  });

  it("refuses a refund whose total is not a decimal, naming it", async () => {
    const body = { ...woocommerceFixture("orderPartialRefund"), refunds: [{ id: 1, reason: "", total: "ten" }] };
    const error = parseError(await woocommerceDelivery("order.updated", body, SECRET));
    expect(error.message).toMatch(/refunds\.0\.total: must be a decimal amount/);
  });

  it("refuses an amount too large for exact arithmetic, naming the field", async () => {
    const body = { ...woocommerceFixture("orderTaxExclusive"), total: "99999999999999999999.00" };
    const error = parseError(await woocommerceDelivery("order.created", body, SECRET));
    expect(error).toMatchObject({ errorClass: "validation", code: "woocommerce_payload_invalid" });
    expect(error.message).toMatch(/field total is not a usable amount/);
  });

  it("refuses a currency that is not three ASCII letters, naming it, as Shopify's payload schema does", async () => {
    // "ßAB" upper-cases to "SSAB"; "𐀀AB" is three code points but no currency; "eur" is taken as EUR.
    for (const currency of ["ßAB", "\u{10000}AB", "EU", "EURO", "E1R"]) {
      const body = { ...woocommerceFixture("orderMinimal"), currency };
      const error = parseError(await woocommerceDelivery("order.updated", body, SECRET));
      expect(error, currency).toMatchObject({ errorClass: "validation", code: "woocommerce_payload_invalid" });
      expect(error.message, currency).toMatch(/payload is invalid: currency: must be a three-letter ISO 4217 code/);
    }
    const event = await first("order.updated", { ...woocommerceFixture("orderMinimal"), currency: "eur" });
    expect(event.object.type === "order" && event.object.order.currency).toBe("EUR");
  });

  it("refuses amounts that each fit but make a line's discount or a sum beyond 2^53 minor units, naming the field", async () => {
    const huge = "90071992547409.91"; // 2^53 - 1 cents: valid alone
    const discounted = woocommerceFixture("orderTaxExclusive");
    const lines = discounted.line_items as Record<string, unknown>[];
    lines[0] = { ...lines[0], subtotal: huge, total: `-${huge}` };
    const discount = parseError(await woocommerceDelivery("order.updated", discounted, SECRET));
    expect(discount).toMatchObject({ errorClass: "validation", code: "woocommerce_amount_out_of_range" });
    expect(discount.message).toBe(
      "The WooCommerce delivery's amounts add up beyond what Orderly can represent (lines.0.discount).",
    );

    // Without total_tax, the order's tax is the sum of its parts'.
    const taxed = woocommerceFixture("orderTaxExclusive");
    taxed.total_tax = null;
    const items = taxed.line_items as Record<string, unknown>[];
    items[0] = { ...items[0], total_tax: huge };
    items[1] = { ...items[1], total_tax: huge };
    const tax = parseError(await woocommerceDelivery("order.updated", taxed, SECRET));
    expect(tax).toMatchObject({ errorClass: "validation", code: "woocommerce_amount_out_of_range" });
    expect(tax.message).toMatch(/\(totals\.tax\)\.$/);
  });

  it("still reports a canonical value out of any other bound (a VAT rate over 100 %) as its own internal failure", async () => {
    const spy = vi.spyOn(orderSchema, "parse").mockImplementationOnce(() => {
      throw new z.ZodError([
        {
          code: "too_big",
          origin: "number",
          maximum: 10_000,
          path: ["lines", 0, "taxRateBp"],
          message: "Too big",
          input: 10_001,
        },
      ]);
    });
    try {
      const error = parseError(await woocommerceDelivery("order.created", woocommerceFixtures.orderTaxExclusive, SECRET));
      expect(error).toMatchObject({ errorClass: "internal", code: "woocommerce_mapping_failed" });
    } finally {
      spy.mockRestore();
    }
  });

  it("reports a canonical order it cannot build as its own internal failure, so the sender's delivery is retried", async () => {
    const spy = vi.spyOn(orderSchema, "parse").mockImplementationOnce(() => {
      throw new z.ZodError([{ code: "custom", path: ["lines", 0, "unitPrice"], message: "broken", input: undefined }]);
    });
    try {
      const error = parseError(await woocommerceDelivery("order.created", woocommerceFixtures.orderTaxExclusive, SECRET));
      expect(error).toMatchObject({ errorClass: "internal", code: "woocommerce_mapping_failed" });
      expect(error.internal).toMatch(/lines\.0\.unitPrice: broken/);
    } finally {
      spy.mockRestore();
    }
  });
});

describe("WooCommerce route: what the inbox needs before the answer", () => {
  async function routed(topic: string, body: string | object, headers: Record<string, string | null> = {}) {
    const delivery = await woocommerceDelivery(topic, body, SECRET, headers);
    return { delivery, result: route(delivery) };
  }

  it("names the same order and delivery as parse's order event, with the shop's number", async () => {
    for (const name of ["orderTaxExclusive", "orderCompleted"] as const) {
      const { delivery, result } = await routed("order.updated", woocommerceFixtures[name]);
      const [event] = parse(delivery) as SourceEvent[];
      if (event?.object.type !== "order") throw new Error("expected an order event");
      expect(result).toStrictEqual({
        orderId: event.orderId,
        deliveryId: event.deliveryId,
        orderName: event.object.order.source.orderNumber,
      });
    }
    // A plugin's string id reads as the same order.
    const stringId = { ...woocommerceFixtures.orderTaxExclusive, id: "5200", number: null };
    expect((await routed("order.created", stringId)).result).toMatchObject({ orderId: "5200", orderName: "#5200" });
  });

  it("reads nothing else: a payload parse would refuse is routed, to be kept after the answer", async () => {
    const broken = { ...woocommerceFixtures.orderTaxExclusive, currency: "kroner", line_items: "none", date_modified_gmt: null };
    const { delivery, result } = await routed("order.updated", broken);
    expect(result).toMatchObject({ orderId: String(broken.id) });
    expect(() => parse(delivery)).toThrow(OrderlyError);
  });

  it("ignores trashed orders and checkout drafts as parse does", async () => {
    for (const [topic, body] of [
      ["order.deleted", { id: 4102 }],
      ["order.updated", { ...woocommerceFixtures.orderTaxExclusive, status: "checkout-draft" }],
    ] as const) {
      const { delivery, result } = await routed(topic, body);
      expect(result).toStrictEqual(parse(delivery));
      expect(result).toMatchObject({ ignored: true });
    }
  });

  it("refuses what cannot be routed with parse's codes", async () => {
    const cases: Array<[string, string | object, Record<string, string | null>, string]> = [
      ["order.updated", "{not json", {}, "woocommerce_body_not_json"],
      ["order.updated", { ...woocommerceFixtures.orderTaxExclusive, id: "abc" }, {}, "woocommerce_payload_invalid"],
      ["order.deleted", { foo: 1 }, {}, "woocommerce_payload_invalid"],
      ["coupon.created", { id: 1 }, {}, "woocommerce_topic_unsupported"],
      ["order.updated", woocommerceFixtures.orderTaxExclusive, { "X-WC-Webhook-ID": null }, "woocommerce_webhook_id_missing"],
      [
        "order.updated",
        woocommerceFixtures.orderTaxExclusive,
        { "X-WC-Webhook-Delivery-ID": null },
        "woocommerce_delivery_id_missing",
      ],
    ];
    for (const [topic, body, headers, code] of cases) {
      const delivery = await woocommerceDelivery(topic, body, SECRET, headers);
      expect(parseError(delivery, route), code).toMatchObject({ errorClass: "validation", code });
      expect(parseError(delivery), code).toMatchObject({ errorClass: "validation", code });
    }
  });
});

describe("WooCommerce delivery fingerprint", () => {
  /** FNV-1a 64 as first written, with BigInt: the delivery ids it made must not change. */
  function reference(bytes: Uint8Array): string {
    let hash = 0xcbf29ce484222325n;
    for (const byte of bytes) hash = BigInt.asUintN(64, (hash ^ BigInt(byte)) * 0x100000001b3n);
    return hash.toString(16).padStart(16, "0");
  }

  it("is FNV-1a 64 (the published vectors) and the same as the BigInt version for any bytes", () => {
    const text = (s: string) => new TextEncoder().encode(s);
    expect(fingerprint(text(""))).toBe("cbf29ce484222325");
    expect(fingerprint(text("a"))).toBe("af63dc4c8601ec8c");
    expect(fingerprint(text("foobar"))).toBe("85944171f73967e8");
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => fingerprint(bytes) === reference(bytes)),
      { numRuns: 300 },
    );
  });
});
