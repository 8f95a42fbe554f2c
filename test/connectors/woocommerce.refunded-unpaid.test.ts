/**
 * An order set to Refunded in WooCommerce that was never paid (a bank transfer left on hold, a
 * cash-on-delivery parcel refused at the door) is cancelled: WooCommerce records a refund of the
 * whole total when the status is set, but no money came in and none went back. A paid order that
 * is refunded stays paid, with one refunded event per refund.
 */
import { env, SELF } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { afterEach, describe, expect, it, vi } from "vitest";
import { parse } from "../../src/connectors/woocommerce/woocommerce.parse";
import { database } from "../../src/db/client";
import { ledgerInvoices, ledgerPayments } from "../../src/db/schema";
import { isReceived, showsPayment } from "../../src/domain/payment";
import { orderObjectName, orderStub } from "../../src/durable/order-types";
import { woocommerceDelivery, woocommerceFixture } from "../fixtures/woocommerce";
import { BASE, createWorld, eventually, type World } from "../helpers/world";
import { createEconomicMock, installEconomicMock } from "../mocks/economic.mock";

const SECRET = "woo_secret_refunded_unpaid_01";

/** A bank-transfer order on hold, never paid (date_paid null), 63.06 EUR. */
const onHold = () => woocommerceFixture("orderTaxExclusive") as Record<string, unknown>;

/** The same order set to Refunded: WooCommerce adds a refund of the whole total. */
const refundedUnpaid = (order: Record<string, unknown>) => ({
  ...order,
  status: "refunded",
  date_modified: "2026-03-09T10:00:00",
  date_modified_gmt: "2026-03-09T09:00:00",
  refunds: [{ id: 4901, reason: "Order fully refunded.", total: "-63.06" }],
});

/** Processing from checkout (WooCommerce's COD gateway stamps date_paid then), never completed. */
const codOnTheWay = () => ({
  ...woocommerceFixture("orderCompleted"),
  status: "processing",
  payment_method: "cod",
  payment_method_title: "Cash on delivery",
  transaction_id: "",
  date_completed: null,
  date_completed_gmt: null,
});

async function events(body: object) {
  const parsed = parse(await woocommerceDelivery("order.updated", body, SECRET));
  if (!Array.isArray(parsed)) throw new Error("expected events");
  return parsed;
}

async function orderOf(body: object) {
  const [first] = await events(body);
  if (first?.object.type !== "order") throw new Error("expected an order event");
  return { stage: first.stage, order: first.object.order };
}

describe("a WooCommerce order set to Refunded without being paid", () => {
  it("is cancelled, its status no payment, and its refund no event (bank transfer on hold)", async () => {
    const parsed = await events(refundedUnpaid(onHold()));
    expect(parsed.map((e) => [e.stage, e.object.type])).toStrictEqual([["cancelled", "order"]]);
    const { order } = await orderOf(refundedUnpaid(onHold()));
    expect(order.stage).toBe("cancelled");
    expect(order.financialStatus).toBe("cancelled");
    expect(isReceived(order.financialStatus)).toBe(false);
    expect(showsPayment(order)).toBe(false);
    expect(order.payments).toStrictEqual([{ gateway: "bacs", method: "Direct bank transfer", status: "pending" }]);
    // Still listed, so a refund credited earlier is not taken for one deleted in the shop.
    expect(order.refundIds).toStrictEqual(["4901"]);
  });

  it("is cancelled when it is a cash-on-delivery parcel refused at the door, whatever date_paid says", async () => {
    const refused = { ...codOnTheWay(), status: "refunded", refunds: [{ id: 5301, reason: "", total: "-488.10" }] };
    const parsed = await events(refused);
    expect(parsed.map((e) => e.stage)).toStrictEqual(["cancelled"]);
    const { order } = await orderOf(refused);
    expect(order.financialStatus).toBe("cancelled");
    expect(showsPayment(order)).toBe(false);
    // The wc- prefix WooCommerce uses internally reads the same.
    expect((await events({ ...refused, status: "wc-refunded" })).map((e) => e.stage)).toStrictEqual(["cancelled"]);
  });

  it("leaves a paid order that is refunded as it was: paid, its status money received, one event per refund", async () => {
    const paid = { ...refundedUnpaid(onHold()), date_paid: "2026-03-03T12:00:00", date_paid_gmt: "2026-03-03T11:00:00" };
    const parsed = await events(paid);
    expect(parsed.map((e) => [e.stage, e.occurrence])).toStrictEqual([
      ["paid", ""],
      ["refunded", "4901"],
    ]);
    const { order } = await orderOf(paid);
    expect(order.financialStatus).toBe("refunded");
    expect(showsPayment(order)).toBe(true);
    // A cash-on-delivery order refunded after it was completed: the cash was collected.
    const returned = {
      ...codOnTheWay(),
      status: "refunded",
      date_completed: "2026-03-05T16:00:01",
      date_completed_gmt: "2026-03-05T15:00:01",
      refunds: [{ id: 5301, reason: "", total: "-488.10" }],
    };
    expect((await events(returned)).map((e) => e.stage)).toStrictEqual(["paid", "refunded"]);
    expect((await orderOf(returned)).order.financialStatus).toBe("refunded");
  });

  it("still reads a partial refund on an unpaid order that is not set to Refunded, as before", async () => {
    const partial = { ...onHold(), refunds: [{ id: 4902, reason: "Discount", total: "-5.00" }] };
    expect((await events(partial)).map((e) => e.stage)).toStrictEqual(["created", "refunded"]);
  });
});

describe("flows of a WooCommerce order set to Refunded without being paid", () => {
  afterEach(() => vi.restoreAllMocks());

  async function setUp() {
    installEconomicMock(createEconomicMock());
    const world = await createWorld();
    const created = await world.api("/connections", {
      body: { connector: "woocommerce", name: "Woo shop", webhookSecret: SECRET, settings: {} },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const source = created.body.id as string;
    const ledger = world.ledgerId;
    for (const [stage, steps] of [
      ["created", [{ target: ledger, action: "createInvoice", settings: { invoiceState: "draft" } }]],
      [
        "paid",
        [
          { target: ledger, action: "createInvoice", settings: { invoiceState: "booked" } },
          { target: ledger, action: "registerPayment" },
        ],
      ],
      ["cancelled", [{ target: world.economicId, action: "cancelOrder" }]],
      ["refunded", [{ target: ledger, action: "createCreditNote" }]],
    ] as const) {
      const flow = await world.api("/flows", { body: { name: `Woo ${stage}`, source, stage, steps } });
      expect(flow.status, JSON.stringify(flow.body)).toBe(201);
    }
    return { world, source };
  }

  async function send(source: string, body: object) {
    const delivery = await woocommerceDelivery("order.updated", body, SECRET);
    const res = await SELF.fetch(`${BASE}/hooks/${source}`, { method: "POST", headers: delivery.headers, body: delivery.body });
    expect(res.status).toBe(200);
  }

  /** Waits until the order's object took `count` events and has nothing left to run. */
  async function settled(source: string, orderId: string, count: number) {
    const stub = orderStub(env, orderObjectName(source, orderId));
    return eventually(async () => {
      const s = await stub.describe();
      const busy = s.steps.some((step) => step.status !== "done" && step.status !== "failed");
      const open = s.transfers.some((t) => t.status !== "completed" && t.status !== "failed");
      return s.events.length === count && s.outbox === 0 && !busy && !open ? s : undefined;
    }, `order ${orderId} to take ${count} events and settle`);
  }

  async function books(world: World) {
    const db = database(env);
    const invoices = await db.select().from(ledgerInvoices).where(eq(ledgerInvoices.connectionId, world.ledgerId));
    const payments = await db.select().from(ledgerPayments).where(eq(ledgerPayments.connectionId, world.ledgerId));
    return { invoices: invoices.map((i) => [i.type, i.state]), payments: payments.map((p) => p.amount) };
  }

  it("runs the cancel flows, not the paid or refunded ones: no payment, booked invoice or credit note", async () => {
    const { world, source } = await setUp();
    const id = Math.floor(Math.random() * 1e9);
    const order = { ...onHold(), id };
    await send(source, order);
    await settled(source, String(id), 1);
    await send(source, refundedUnpaid(order));
    const state = await settled(source, String(id), 2);
    expect(state.stage).toMatchObject({ reached: "created", cancelled: true });
    expect(state.transfers.map((t) => [t.stage, t.status])).toStrictEqual([
      ["created", "completed"],
      ["cancelled", "completed"],
    ]);
    // The created flow's draft stays for the cancel flow's target to delete (here another ledger's).
    expect(await books(world)).toStrictEqual({ invoices: [["invoice", "draft"]], payments: [] });
  });

  it("runs no paid flow for a refused cash-on-delivery parcel either", async () => {
    const { world, source } = await setUp();
    const id = Math.floor(Math.random() * 1e9);
    const order = { ...codOnTheWay(), id };
    await send(source, order);
    await settled(source, String(id), 1);
    await send(source, {
      ...order,
      status: "refunded",
      date_modified_gmt: "2026-03-06T09:00:00",
      refunds: [{ id: 5301, reason: "", total: "-488.10" }],
    });
    const state = await settled(source, String(id), 2);
    expect(state.transfers.map((t) => t.stage)).toStrictEqual(["created", "cancelled"]);
    expect((await books(world)).payments).toStrictEqual([]);
  });

  it("books a paid order that is then refunded as before: invoice, payment, credit note", async () => {
    const { world, source } = await setUp();
    const id = Math.floor(Math.random() * 1e9);
    const paidAt = { date_paid: "2026-03-03T12:00:00", date_paid_gmt: "2026-03-03T11:00:00" };
    const order = { ...onHold(), ...paidAt, status: "processing", date_modified_gmt: "2026-03-03T11:00:00", id };
    await send(source, order);
    await settled(source, String(id), 1);
    await send(source, refundedUnpaid(order));
    const state = await settled(source, String(id), 3);
    expect(state.transfers.map((t) => [t.stage, t.status])).toStrictEqual([
      ["created", "completed"],
      ["paid", "completed"],
      ["refunded", "completed"],
    ]);
    const { invoices, payments } = await books(world);
    expect(invoices).toContainEqual(["invoice", "booked"]);
    expect(invoices).toContainEqual(["credit-note", "draft"]);
    expect(payments).toStrictEqual([6306]);
  });
});
