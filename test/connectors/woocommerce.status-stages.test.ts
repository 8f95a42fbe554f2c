/**
 * A WooCommerce connection's own statuses (`statusStages`): a plugin status such as "shipped" can
 * mean fulfilled, on top of the built-in meaning of WooCommerce's own statuses, which stays as it
 * was. Fulfilled climbs through paid on the ladder (as Shopify's fulfilment does); a status mapped
 * to paid still needs WooCommerce's date_paid, as an unmapped plugin status does.
 */
import { env, SELF } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { afterEach, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import type { SourceEvent } from "../../src/connectors/contract";
import { woocommerceConnector, woocommerceSettings } from "../../src/connectors/woocommerce";
import { parse } from "../../src/connectors/woocommerce/woocommerce.parse";
import { database } from "../../src/db/client";
import { ledgerInvoices, ledgerPayments } from "../../src/db/schema";
import { paidAsAWhole, showsPaymentToEnter } from "../../src/domain/payment";
import { advanceStage, initialStageState } from "../../src/domain/stage";
import { orderObjectName, orderStub } from "../../src/durable/order-types";
import { fieldsFor, readFields } from "../../src/worker/routes/ui/forms/schema-fields";
import { woocommerceDelivery, woocommerceFixture } from "../fixtures/woocommerce";
import { BASE, createWorld, eventually } from "../helpers/world";

const SECRET = "woo_secret_status_stages_01";
const PAID_AT = { date_paid: "2026-03-03T12:00:00", date_paid_gmt: "2026-03-03T11:00:00" };
const UNPAID = { date_paid: null, date_paid_gmt: null };
/** Cash on delivery not yet completed (WooCommerce stamps date_paid at checkout all the same). */
const COD = { payment_method: "cod", payment_method_title: "Cash on delivery", date_completed: null, date_completed_gmt: null };

/** A card order, paid (date_paid set), in the given status. */
const paidOrder = (status: string) => ({ ...woocommerceFixture("orderMinimal"), ...PAID_AT, status });
/** A bank-transfer order, never paid (no date_paid), in the given status. */
const unpaidOrder = (status: string) => ({ ...woocommerceFixture("orderTaxExclusive"), ...UNPAID, status });

/** The connection's settings as the connector's schema reads them (as a loaded connection has them). */
const settingsWith = (statusStages: Record<string, string>) => woocommerceSettings.parse({ statusStages });

async function events(body: object, settings?: object): Promise<SourceEvent[]> {
  const parsed = parse(await woocommerceDelivery("order.updated", body, SECRET), settings);
  if (!Array.isArray(parsed)) throw new Error("expected events");
  return parsed;
}

async function stageOf(body: object, settings?: object) {
  const [first] = await events(body, settings);
  if (first?.object.type !== "order") throw new Error("expected an order event");
  return { stage: first.stage, order: first.object.order };
}

/** The issues the settings schema gives, as the API reports them (`path: message`). */
function refusals(statusStages: unknown): string[] {
  const result = woocommerceSettings.safeParse({ statusStages });
  return result.success ? [] : result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
}

describe("the statusStages setting", () => {
  it("reads status = stage, with or without wc-, and stores the status without it", () => {
    expect(settingsWith({ shipped: "fulfilled", "wc-awaiting-shipment": "paid", "ready-to-pack": "created" })).toStrictEqual({
      statusStages: { shipped: "fulfilled", "awaiting-shipment": "paid", "ready-to-pack": "created" },
    });
    // A connection without it reads as before.
    expect(woocommerceSettings.parse({})).toStrictEqual({});
    expect(woocommerceSettings.parse({ statusStages: {} })).toStrictEqual({ statusStages: {} });
  });

  it("refuses each bad entry with a message that names it", () => {
    expect(refusals({ "Shipped!": "fulfilled" })).toStrictEqual([
      'statusStages.Shipped!: "Shipped!" is not a WooCommerce order status slug: write the status as WooCommerce names it, in lowercase letters, digits, dashes and underscores, at most 20 characters (with or without the wc- prefix), e.g. shipped or wc-shipped.',
    ]);
    expect(refusals({ "wc-": "fulfilled" })[0]).toMatch(/^statusStages\.wc-: "wc-" is not a WooCommerce order status slug/);
    // 20 characters after the prefix are taken, 21 are not.
    expect(refusals({ [`wc-${"a".repeat(20)}`]: "paid" })).toStrictEqual([]);
    expect(refusals({ [`wc-${"a".repeat(21)}`]: "paid" })).toHaveLength(1);
    expect(refusals({ shipped: "shiped" })).toStrictEqual([
      'statusStages.shipped: "shipped = shiped": "shiped" is not an Orderly stage; use created, paid, fulfilled, completed or cancelled.',
    ]);
    expect(refusals({ returned: "refunded" })).toStrictEqual([
      'statusStages.returned: "returned = refunded": a status cannot mean refunded, as Orderly reads each refund from the order\'s refunds whatever its status. Use created, paid, fulfilled, completed or cancelled.',
    ]);
    expect(refusals({ shipped: "fulfilled", "wc-shipped": "completed" })).toStrictEqual([
      'statusStages.wc-shipped: "wc-shipped" is the same status as "shipped" (the wc- prefix aside); keep one of them.',
    ]);
    expect(refusals({ shipped: "fulfilled", good: "paid", bad: "sent" })).toHaveLength(1);
  });

  it("refuses WooCommerce's own statuses, whose meaning the built-in rules depend on", () => {
    expect(refusals({ processing: "fulfilled" })).toStrictEqual([
      "statusStages.processing: \"processing\" is one of WooCommerce's own statuses, which Orderly already reads as paid; it cannot be changed here. List only your shop's own statuses, e.g. shipped = fulfilled.",
    ]);
    for (const status of ["pending", "on-hold", "failed", "wc-completed", "cancelled", "trash", "refunded"]) {
      expect(refusals({ [status]: "fulfilled" })[0], status).toMatch(/one of WooCommerce's own statuses/);
    }
    expect(refusals({ "checkout-draft": "created" })[0]).toMatch(/never placed; Orderly ignores it/);
  });

  it("is a key = value field in the connection form, with plain help, read back as the API reads it", () => {
    const field = fieldsFor(woocommerceSettings, "settings").find((f) => f.key === "statusStages");
    expect(field).toMatchObject({ kind: "record", label: "Status stages", required: false });
    expect(field?.help).toMatch(/^Your shop's own order statuses, and the stage each one means in Orderly/);
    const read = readFields(field ? [field] : [], { "settings.statusStages": "wc-shipped = fulfilled\nready-to-pack: created" });
    expect(woocommerceSettings.parse(read)).toStrictEqual({ statusStages: { shipped: "fulfilled", "ready-to-pack": "created" } });
    // GET /connectors lists the settings as JSON Schema (their input side).
    expect(z.toJSONSchema(woocommerceSettings, { io: "input" }).properties?.statusStages).toMatchObject({
      type: "object",
      additionalProperties: { type: "string" },
    });
  });
});

describe("stages of a WooCommerce order with the shop's own statuses", () => {
  it("reads WooCommerce's own statuses, and unlisted ones, exactly as without the setting", async () => {
    const settings = settingsWith({ shipped: "fulfilled", "ready-to-pack": "created" });
    for (const status of ["pending", "on-hold", "failed", "processing", "completed", "cancelled", "trash", "refunded"]) {
      for (const body of [paidOrder(status), unpaidOrder(status), paidOrder(`wc-${status}`)]) {
        expect((await stageOf(body, settings)).stage, status).toBe((await stageOf(body)).stage);
      }
    }
    expect((await stageOf(paidOrder("processing"))).stage).toBe("paid");
    expect((await stageOf(unpaidOrder("on-hold"))).stage).toBe("created");
    // An unlisted plugin status: paid once WooCommerce recorded the payment, else created.
    expect((await stageOf(paidOrder("awaiting-pickup"), settings)).stage).toBe("paid");
    expect((await stageOf(unpaidOrder("awaiting-pickup"), settings)).stage).toBe("created");
  });

  it("reads a status mapped to fulfilled as fulfilled, with or without wc- on either side", async () => {
    for (const [status, key] of [
      ["shipped", "shipped"],
      ["wc-shipped", "shipped"],
      ["shipped", "wc-shipped"],
      ["wc-shipped", "wc-shipped"],
    ] as const) {
      expect((await stageOf(paidOrder(status), settingsWith({ [key]: "fulfilled" }))).stage, `${status} / ${key}`).toBe(
        "fulfilled",
      );
    }
    // Through the connector's own handlers too.
    const delivery = await woocommerceDelivery("order.updated", paidOrder("shipped"), SECRET);
    expect(woocommerceConnector.source?.parse(delivery, settingsWith({ shipped: "fulfilled" }))).toMatchObject([
      { stage: "fulfilled" },
    ]);
  });

  it("climbs through paid to fulfilled when the order has not reached paid", async () => {
    const { stage } = await stageOf(unpaidOrder("shipped"), settingsWith({ shipped: "fulfilled" }));
    expect(advanceStage({ reached: "created", cancelled: false }, stage).passed).toStrictEqual(["paid", "fulfilled"]);
    expect(advanceStage(initialStageState, stage).passed).toStrictEqual(["created", "paid", "fulfilled"]);
    expect(advanceStage({ reached: "paid", cancelled: false }, stage).passed).toStrictEqual(["fulfilled"]);
  });

  it("enters no payment for an unpaid order mapped to fulfilled: its payment stays pending until date_paid", async () => {
    const { order } = await stageOf(unpaidOrder("shipped"), settingsWith({ shipped: "fulfilled" }));
    expect(order.payments).toStrictEqual([{ gateway: "bacs", method: "Direct bank transfer", status: "pending" }]);
  });

  it("reads a status mapped to paid as the built-in rules read a plugin status: paid only with date_paid", async () => {
    const settings = settingsWith({ "awaiting-shipment": "paid" });
    expect((await stageOf(paidOrder("awaiting-shipment"), settings)).stage).toBe("paid");
    expect((await stageOf(unpaidOrder("awaiting-shipment"), settings)).stage).toBe("created");
    // Cash on delivery stamps date_paid at checkout, but no cash has been collected yet.
    const cod = { ...paidOrder("awaiting-shipment"), payment_method: "cod", payment_method_title: "Cash on delivery" };
    expect((await stageOf(cod, settings)).stage).toBe("created");
  });

  it("reads other mapped stages as mapped: created and cancelled", async () => {
    const settings = settingsWith({ quote: "created", rejected: "cancelled", delivered: "completed" });
    expect((await stageOf(paidOrder("quote"), settings)).stage).toBe("created");
    expect((await stageOf(paidOrder("rejected"), settings)).stage).toBe("cancelled");
    expect((await stageOf(paidOrder("delivered"), settings)).stage).toBe("completed");
  });

  it("keeps the built-in rules when a map that skipped the schema names WooCommerce's own statuses or refunded", async () => {
    const raw = { statusStages: { refunded: "paid", processing: "fulfilled", shipped: "refunded" } };
    const refunded = { ...unpaidOrder("refunded"), refunds: [{ id: 4901, reason: "", total: "-63.06" }] };
    expect((await events(refunded, raw)).map((e) => e.stage)).toStrictEqual(["cancelled"]);
    expect((await stageOf(paidOrder("processing"), raw)).stage).toBe("paid");
    expect((await stageOf(unpaidOrder("shipped"), raw)).stage).toBe("created");
  });
});

describe("flows of a WooCommerce connection whose shipped status means fulfilled", () => {
  afterEach(() => vi.restoreAllMocks());

  async function setUp(statusStages: Record<string, string> = { "wc-shipped": "fulfilled" }) {
    const world = await createWorld();
    const refused = await world.api("/connections", {
      body: {
        connector: "woocommerce",
        name: "Woo",
        webhookSecret: SECRET,
        settings: { statusStages: { processing: "fulfilled" } },
      },
    });
    expect(refused.status).toBe(400);
    expect(JSON.stringify(refused.body)).toMatch(
      /statusStages\.processing: \\"processing\\" is one of WooCommerce's own statuses/,
    );
    const created = await world.api("/connections", {
      body: {
        connector: "woocommerce",
        name: "Woo shop",
        webhookSecret: SECRET,
        settings: { statusStages },
      },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const source = created.body.id as string;
    const ledger = world.ledgerId;
    for (const [stage, steps] of [
      ["paid", [{ target: ledger, action: "createInvoice", settings: { invoiceState: "draft" } }]],
      [
        "fulfilled",
        [
          { target: ledger, action: "createInvoice", settings: { invoiceState: "booked" } },
          { target: ledger, action: "registerPayment" },
        ],
      ],
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

  async function settled(source: string, orderId: string, count: number) {
    const stub = orderStub(env, orderObjectName(source, orderId));
    return eventually(async () => {
      const s = await stub.describe();
      const busy = s.steps.some((step) => step.status !== "done" && step.status !== "failed");
      const open = s.transfers.some((t) => t.status !== "completed" && t.status !== "failed");
      return s.events.length === count && s.outbox === 0 && !busy && !open ? s : undefined;
    }, `order ${orderId} to take ${count} events and settle`);
  }

  async function payments(ledgerId: string) {
    const db = database(env);
    const rows = await db.select().from(ledgerPayments).where(eq(ledgerPayments.connectionId, ledgerId));
    const invoices = await db.select().from(ledgerInvoices).where(eq(ledgerInvoices.connectionId, ledgerId));
    return { payments: rows.map((p) => p.amount), booked: invoices.filter((i) => i.state === "booked").length };
  }

  it("runs the fulfilled flows when a paid order is shipped, after its paid flows", async () => {
    const { world, source } = await setUp();
    const id = Math.floor(Math.random() * 1e9);
    const order = { ...woocommerceFixture("orderTaxExclusive"), ...PAID_AT, status: "processing", id };
    await send(source, { ...order, date_modified_gmt: "2026-03-03T11:00:00" });
    await settled(source, String(id), 1);
    await send(source, { ...order, status: "wc-shipped", date_modified_gmt: "2026-03-04T09:00:00" });
    const state = await settled(source, String(id), 2);
    expect(state.stage).toMatchObject({ reached: "fulfilled", cancelled: false });
    expect(state.transfers.map((t) => [t.stage, t.status])).toStrictEqual([
      ["paid", "completed"],
      ["fulfilled", "completed"],
    ]);
    expect(await payments(world.ledgerId)).toStrictEqual({ payments: [6306], booked: 1 });
  });

  it("runs the paid flows first when an unpaid order is shipped, and enters no payment WooCommerce has not recorded", async () => {
    const { world, source } = await setUp();
    const id = Math.floor(Math.random() * 1e9);
    await send(source, { ...woocommerceFixture("orderTaxExclusive"), ...UNPAID, status: "shipped", id });
    const state = await settled(source, String(id), 1);
    expect(state.stage).toMatchObject({ reached: "fulfilled" });
    expect(state.transfers.map((t) => [t.stage, t.status])).toStrictEqual([
      ["paid", "completed"],
      ["fulfilled", "completed"],
    ]);
    expect((await payments(world.ledgerId)).payments).toStrictEqual([]);
  });

  it("books a cash-on-delivery order only once the shop's delivered status says the cash was collected", async () => {
    const { world, source } = await setUp({ "wc-shipped": "fulfilled", delivered: "completed" });
    const id = Math.floor(Math.random() * 1e9);
    // WooCommerce's COD gateway sets processing and date_paid at checkout, before any cash.
    const order = { ...woocommerceFixture("orderTaxExclusive"), ...PAID_AT, ...COD, id };
    await send(source, { ...order, status: "processing", date_modified_gmt: "2026-03-03T11:00:00" });
    await settled(source, String(id), 1);
    await send(source, { ...order, status: "wc-shipped", date_modified_gmt: "2026-03-04T09:00:00" });
    const shipped = await settled(source, String(id), 2);
    // Shipped is no payment: no paid flow, so no invoice before the cash.
    expect(shipped.stage).toMatchObject({ reached: "created" });
    expect(shipped.transfers).toStrictEqual([]);
    expect(await payments(world.ledgerId)).toStrictEqual({ payments: [], booked: 0 });
    await send(source, { ...order, status: "delivered", date_modified_gmt: "2026-03-05T15:00:00" });
    const delivered = await settled(source, String(id), 3);
    expect(delivered.stage).toMatchObject({ reached: "completed" });
    expect(delivered.transfers.map((t) => [t.stage, t.status])).toStrictEqual([
      ["paid", "completed"],
      ["fulfilled", "completed"],
    ]);
    // The cash collected is entered on the booked invoice.
    expect(await payments(world.ledgerId)).toStrictEqual({ payments: [6306], booked: 1 });
  });
});

describe("the shop's own statuses for cash on delivery", () => {
  const settings = settingsWith({ shipped: "fulfilled", delivered: "completed" });
  const cod = (status: string) => ({ ...paidOrder(status), ...COD });

  it("does not take an order whose cash is not collected to fulfilled, which would climb through paid", async () => {
    const { stage, order } = await stageOf(cod("shipped"), settings);
    expect(stage).toBe("created");
    expect(order.payments).toStrictEqual([{ gateway: "cod", method: "Cash on delivery", status: "pending" }]);
    expect(order.financialStatus).toBe("pending");
    // Another gateway's order is fulfilled, as before.
    expect((await stageOf(paidOrder("shipped"), settings)).stage).toBe("fulfilled");
  });

  it("reads a status mapped to completed as the parcel delivered and the cash collected, as WooCommerce's completed", async () => {
    const { stage, order } = await stageOf(cod("delivered"), settings);
    expect(stage).toBe("completed");
    expect(order.payments).toStrictEqual([{ gateway: "cod", method: "Cash on delivery", amount: 5800, status: "paid" }]);
    expect(showsPaymentToEnter(order)).toBe(true);
    // The same order at WooCommerce's own completed reads alike.
    const core = await stageOf({ ...cod("completed"), date_completed_gmt: "2026-03-05T15:00:01" });
    expect(core.stage).toBe("completed");
    expect(core.order.payments).toStrictEqual(order.payments);
  });
});

describe("the financial status of an order at the shop's own status", () => {
  it("is not the status's name: a status called paid without date_paid is no payment to enter", async () => {
    for (const settings of [undefined, settingsWith({ paid: "paid" }), settingsWith({ paid: "fulfilled" })]) {
      const { order } = await stageOf(unpaidOrder("paid"), settings);
      expect(order.financialStatus).toBe("pending");
      expect(paidAsAWhole(order)).toBe(false);
      expect(showsPaymentToEnter(order)).toBe(false);
      expect(order.payments).toStrictEqual([{ gateway: "bacs", method: "Direct bank transfer", status: "pending" }]);
    }
    // Nor as refunded, partly paid or partly refunded: each would read as money received.
    for (const status of ["wc-paid", "partially_paid", "partially_refunded"]) {
      expect(paidAsAWhole((await stageOf(unpaidOrder(status))).order), status).toBe(false);
    }
  });

  it("reads as WooCommerce's processing once date_paid is recorded, the payment entered from payments", async () => {
    const { order } = await stageOf(paidOrder("shipped"), settingsWith({ shipped: "fulfilled" }));
    expect(order.financialStatus).toBe("processing");
    expect(paidAsAWhole(order)).toBe(false);
    expect(order.payments).toStrictEqual([{ gateway: "stripe", method: "Card", amount: 5800, status: "paid" }]);
    // WooCommerce's own statuses keep their name.
    expect((await stageOf(paidOrder("wc-completed"))).order.financialStatus).toBe("wc-completed");
    expect((await stageOf(unpaidOrder("on-hold"))).order.financialStatus).toBe("on-hold");
  });
});

describe("status slugs at the edges", () => {
  it("takes underscores, as WordPress's sanitize_key does", async () => {
    expect(settingsWith({ "wc-awaiting_pickup": "fulfilled" })).toStrictEqual({ statusStages: { awaiting_pickup: "fulfilled" } });
    expect((await stageOf(paidOrder("wc-awaiting_pickup"), settingsWith({ awaiting_pickup: "fulfilled" }))).stage).toBe(
      "fulfilled",
    );
  });

  it("reads a status named like an object's property as any plugin status, mapped or not", async () => {
    for (const status of ["constructor", "toString", "hasOwnProperty", "__proto__", "valueOf"]) {
      expect((await stageOf(paidOrder(status))).stage, status).toBe("paid");
      expect((await stageOf(unpaidOrder(status), settingsWith({ shipped: "fulfilled" }))).stage, status).toBe("created");
    }
    const settings = settingsWith({ constructor: "fulfilled" });
    expect(settings).toStrictEqual({ statusStages: { constructor: "fulfilled" } });
    expect((await stageOf(paidOrder("wc-constructor"), settings)).stage).toBe("fulfilled");
    expect((await stageOf(paidOrder("tostring"), settings)).stage).toBe("paid");
  });
});
