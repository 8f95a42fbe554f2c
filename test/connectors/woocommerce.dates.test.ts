/**
 * Invoices and credit notes are dated by the shop's own day: an order placed at 00:30 in Denmark is
 * the previous day in UTC, and on the first of a month in the previous VAT period.
 */
import { describe, expect, it } from "vitest";
import type { SourceEvent } from "../../src/connectors/contract";
import { parse } from "../../src/connectors/woocommerce/woocommerce.parse";
import { accountingSettingsSchema } from "../../src/domain/accounting/accounting-settings";
import { buildCreditNoteDocument, buildInvoiceDocument } from "../../src/domain/accounting/build-document";
import type { CanonicalOrder, CanonicalRefund } from "../../src/domain/order";
import { woocommerceDelivery, woocommerceFixture } from "../fixtures/woocommerce";

const SECRET = "test-secret";

async function eventsOf(body: object): Promise<SourceEvent[]> {
  const events = parse(await woocommerceDelivery("order.updated", body, SECRET));
  if (!Array.isArray(events)) throw new Error("expected events");
  return events;
}

function orderIn(events: SourceEvent[]): CanonicalOrder {
  const object = events[0]?.object;
  if (object?.type !== "order") throw new Error("expected an order event");
  return object.order;
}

function refundIn(events: SourceEvent[]): CanonicalRefund {
  const object = events[1]?.object;
  if (object?.type !== "refund") throw new Error("expected a refund event");
  return object.refund;
}

/** A Danish order placed at 00:30 on 1 April (summer time, UTC+2) and refunded in part at 00:10 on 1 July. */
function justAfterMidnight(): Record<string, unknown> {
  return {
    ...woocommerceFixture("orderCompleted"),
    date_created: "2026-04-01T00:30:00",
    date_created_gmt: "2026-03-31T22:30:00",
    date_modified: "2026-07-01T00:10:00",
    date_modified_gmt: "2026-06-30T22:10:00",
    refunds: [{ id: 5299, reason: "Late delivery", total: "-50.00" }],
  };
}

describe("WooCommerce dates in the shop's time", () => {
  it("writes the order's creation in the shop's time with its offset, and keeps the version in UTC", async () => {
    const events = await eventsOf(justAfterMidnight());
    const order = orderIn(events);
    expect(order.source.createdAt).toBe("2026-04-01T00:30:00+02:00");
    expect(Date.parse(order.source.createdAt)).toBe(Date.UTC(2026, 2, 31, 22, 30));
    expect(events.map((e) => e.version)).toEqual([Date.UTC(2026, 5, 30, 22, 10), Date.UTC(2026, 5, 30, 22, 10)]);
  });

  it("dates the invoice and the credit note by the shop's day, not the UTC one", async () => {
    const events = await eventsOf(justAfterMidnight());
    const settings = accountingSettingsSchema.parse({ homeCountry: "DK" });
    const order = orderIn(events);
    expect(buildInvoiceDocument(order, settings).date).toBe("2026-04-01");
    const refund = refundIn(events);
    expect(refund.source.createdAt).toBe("2026-07-01T00:10:00+02:00");
    expect(buildCreditNoteDocument(order, refund, settings).date).toBe("2026-07-01");
  });

  it("writes winter time as +01:00, and a shop west of UTC with a negative offset", async () => {
    const winter = { ...justAfterMidnight(), date_created: "2026-01-01T00:05:00", date_created_gmt: "2025-12-31T23:05:00" };
    expect(orderIn(await eventsOf(winter)).source.createdAt).toBe("2026-01-01T00:05:00+01:00");
    const west = { ...justAfterMidnight(), date_created: "2026-03-31T20:30:00", date_created_gmt: "2026-04-01T00:30:00" };
    expect(orderIn(await eventsOf(west)).source.createdAt).toBe("2026-03-31T20:30:00-04:00");
  });

  it("falls back to the UTC dates when the payload lacks the site-time or the GMT field", async () => {
    const noLocal = await eventsOf({ ...justAfterMidnight(), date_created: null, date_modified: null });
    expect(orderIn(noLocal).source.createdAt).toBe("2026-03-31T22:30:00Z");
    expect(refundIn(noLocal).source.createdAt).toBe("2026-06-30T22:10:00.000Z");
    // Without date_modified_gmt the version comes from date_modified read as UTC, as before.
    const noGmt = await eventsOf({ ...justAfterMidnight(), date_created_gmt: null, date_modified_gmt: null });
    expect(orderIn(noGmt).source.createdAt).toBe("2026-04-01T00:30:00Z");
    expect(refundIn(noGmt).source.createdAt).toBe("2026-07-01T00:10:00.000Z");
  });

  it("falls back to the UTC date when the two fields differ by no plausible offset", async () => {
    const odd = { ...justAfterMidnight(), date_created: "2026-04-03T00:30:00" };
    expect(orderIn(await eventsOf(odd)).source.createdAt).toBe("2026-03-31T22:30:00Z");
  });
});
