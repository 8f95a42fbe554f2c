/**
 * The webhook-out `sendOrder` action against a strict receiver: what it sends (both payloads, the
 * headers, a signature a receiver verifies with its own code), how it reads the answers (2xx with
 * and without an id, a 409 naming the key adopted, a bare one adopted after an unanswered attempt, any
 * other refused, 408/425/429/5xx/network
 * retried with their Retry-After, other 4xx refused with the receiver's words) and what it never
 * does (send again on a re-run, but say when the order changed; send an oversized body; follow a
 * redirect).
 */
import { describe, expect, it } from "vitest";
import type { ActionResult } from "../../../src/connectors/contract";
import { sendOrder, webhookBody, webhookOutCredentials, webhookOutSettings } from "../../../src/connectors/webhook-out";
import { OrderlyError } from "../../../src/domain/errors";
import type { CanonicalOrder } from "../../../src/domain/order";
import { actionContext } from "../../helpers/action-context";
import { danishOrder } from "../../mocks/billy.mock.fixtures";
import {
  createWebhookReceiver,
  type ReceiverOptions,
  verifyOrderlySignature,
  WEBHOOK_SECRET,
  WEBHOOK_URL,
} from "../../mocks/webhook-out.mock";

const REFERENCE = "orderly-0123456789abcdef0123456789abcdef-0";
const HEX64 = expect.stringMatching(/^[0-9a-f]{64}$/);

function setup(
  options: {
    step?: Record<string, unknown>;
    connection?: Record<string, unknown>;
    credentials?: Record<string, unknown>;
    receiver?: ReceiverOptions;
  } = {},
) {
  const receiver = createWebhookReceiver(options.receiver);
  const spy = receiver.install();
  const { ctx, mapped, http } = actionContext(sendOrder, {
    connection: {
      settings: webhookOutSettings.parse({ baseUrl: WEBHOOK_URL, ...options.connection }),
      credentials: webhookOutCredentials.parse({ signingSecret: WEBHOOK_SECRET, ...options.credentials }),
    },
    settings: options.step ?? {},
    reference: REFERENCE,
  });
  return { receiver, spy, ctx, mapped, http };
}

async function failure(run: Promise<unknown>): Promise<OrderlyError> {
  const error = await run.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OrderlyError);
  return error as OrderlyError;
}

describe("webhook-out sendOrder: what is sent", () => {
  it("POSTs the canonical order, signed, with the reference as Idempotency-Key, and records it as mapped", async () => {
    const { receiver, ctx, mapped, http } = setup();
    const order = danishOrder();
    const result = await sendOrder.run(ctx, { order });

    expect(receiver.refused).toEqual([]);
    expect(receiver.received).toHaveLength(1);
    const [request] = receiver.received;
    expect(request?.key).toBe(REFERENCE);
    expect(request?.headers).toMatchObject({
      "content-type": "application/json",
      "idempotency-key": REFERENCE,
      "user-agent": "Orderly-Webhook/1",
    });
    expect(request?.headers["x-orderly-event"]).toBeUndefined();
    expect(request?.body).toEqual({ type: "order", reference: REFERENCE, order });
    // Amounts stay integers in minor units, with the currency beside them.
    expect(request?.body.order).toMatchObject({ currency: "DKK", totals: { total: 24800, tax: 4960 } });
    expect(mapped).toEqual([request?.body]);
    expect(result).toEqual({
      externalId: "wh_1",
      created: true,
      outputs: { payload: "order", idempotencyKey: REFERENCE, status: 201, bodySha256: HEX64, receiverId: "wh_1" },
    });
    // The exchange is kept on the step's client, for the snapshots.
    expect(http.exchanges).toHaveLength(1);
    expect(http.exchanges[0]?.response?.status).toBe(201);
  });

  it("sends a pick list (lines to pick only, ship-to, shipping method) with the event in a header and the body", async () => {
    const { receiver, ctx } = setup({ step: { payload: "pickList", event: "order.approved" } });
    const order = danishOrder({
      shippingAddress: {
        name: "Bo Berg",
        company: "Berg ApS",
        line1: "Havnegade 3",
        postcode: "5000",
        city: "Odense",
        country: "DK",
      },
      lines: [
        { id: "l1", sku: "TS-1", title: "T-shirt", quantity: 2, unitPrice: 9950, discount: 0, tax: 3980, taxRateBp: 2500 },
        { id: "l2", title: "Removed mug", quantity: 0, unitPrice: 5000, discount: 0, tax: 0, taxRateBp: 2500 },
        { id: "l3", title: "Gift wrap", quantity: 1, unitPrice: 0, discount: 0, tax: 0, taxRateBp: 2500 },
      ],
      shipping: [{ title: "GLS Pakkeshop", code: "gls-ps", price: 4900, discount: 0, tax: 980, taxRateBp: 2500 }],
    });
    const result = await sendOrder.run(ctx, { order });

    expect(receiver.refused).toEqual([]);
    const [request] = receiver.received;
    expect(request?.event).toBe("order.approved");
    expect(request?.body).toEqual({
      type: "pickList",
      reference: REFERENCE,
      event: "order.approved",
      pickList: {
        orderId: "5001",
        orderNumber: "#1001",
        shipTo: {
          name: "Bo Berg",
          company: "Berg ApS",
          line1: "Havnegade 3",
          postcode: "5000",
          city: "Odense",
          country: "DK",
          email: "ane@example.dk",
        },
        shippingMethod: { title: "GLS Pakkeshop", code: "gls-ps" },
        lines: [
          { sku: "TS-1", name: "T-shirt", quantity: 2 },
          { sku: null, name: "Gift wrap", quantity: 1 },
        ],
      },
    });
    expect(result.outputs).toMatchObject({ payload: "pickList", event: "order.approved" });
  });

  it("ships a pick list to the billing address when the order has no shipping address, and names no method without shipping", async () => {
    const { receiver, ctx } = setup({ step: { payload: "pickList" } });
    const { shippingAddress: _none, ...rest } = danishOrder({ shipping: [] });
    await sendOrder.run(ctx, { order: rest as CanonicalOrder });
    expect(receiver.refused).toEqual([]);
    expect(receiver.received[0]?.body.pickList).toMatchObject({
      shipTo: { name: "Ane Lund", line1: "Vestergade 1", city: "Aarhus", email: "ane@example.dk" },
      shippingMethod: null,
    });
  });

  it("refuses a pick list with nothing to pick, sending nothing", async () => {
    const { receiver, ctx } = setup({ step: { payload: "pickList" } });
    const order = danishOrder({
      lines: [{ id: "l1", sku: "TS-1", title: "T-shirt", quantity: 0, unitPrice: 19900, discount: 0, tax: 0 }],
    });
    const error = await failure(sendOrder.run(ctx, { order }));
    expect(error).toMatchObject({ errorClass: "validation", code: "webhook_out_nothing_to_pick", madeNothing: true });
    expect(error.message).toContain("Order #1001 has no lines to pick");
    expect(receiver.received).toEqual([]);
  });

  it("signs `<timestamp>.<body>` so a receiver verifies it with its own code, and a replay or a changed body fails", async () => {
    const { receiver, ctx } = setup();
    await sendOrder.run(ctx, { order: danishOrder() });
    const [request] = receiver.received;
    if (!request) throw new Error("nothing received");
    expect(request.signature).toMatch(/^[0-9a-f]{64}$/);
    expect(Math.abs(Number(request.timestamp) - Date.now() / 1000)).toBeLessThan(300);
    expect(await verifyOrderlySignature(WEBHOOK_SECRET, request.timestamp, request.raw, request.signature)).toBe(true);
    expect(
      await verifyOrderlySignature("another-secret-of-enough-length", request.timestamp, request.raw, request.signature),
    ).toBe(false);
    expect(
      await verifyOrderlySignature(WEBHOOK_SECRET, request.timestamp, request.raw.replace("24800", "2480"), request.signature),
    ).toBe(false);
    expect(
      await verifyOrderlySignature(WEBHOOK_SECRET, String(Number(request.timestamp) + 1), request.raw, request.signature),
    ).toBe(false);

    // The same request, captured and sent again ten minutes later, is refused by its timestamp.
    const later = createWebhookReceiver({ now: () => Number(request.timestamp) * 1000 + 600_000 });
    const replay = await later.handle(new Request(WEBHOOK_URL, { method: "POST", headers: request.headers, body: request.raw }));
    expect(replay.status).toBe(400);
    expect(later.refused).toEqual(["timestamp outside five minutes (a replay?)"]);
  });

  it("sends the bearer token and the static headers, and keeps their values out of the snapshots", async () => {
    const { receiver, ctx, http } = setup({
      connection: { headers: { "X-Warehouse-Id": "42", "X-Api-Key": "wms-key-1" } },
      credentials: { bearerToken: "tok_abc" },
      receiver: { bearerToken: "tok_abc", headers: { "x-warehouse-id": "42", "x-api-key": "wms-key-1" } },
    });
    await sendOrder.run(ctx, { order: danishOrder() });
    expect(receiver.refused).toEqual([]);
    expect(receiver.received).toHaveLength(1);
    const snapshot = http.exchanges[0]?.request.headers ?? {};
    expect(snapshot).toMatchObject({ authorization: "[redacted]", "x-warehouse-id": "[redacted]", "x-api-key": "[redacted]" });
    expect(JSON.stringify(http.exchanges)).not.toContain("tok_abc");
    expect(JSON.stringify(http.exchanges)).not.toContain("wms-key-1");
  });
});

describe("webhook-out sendOrder: the answers", () => {
  it("takes a 2xx without an id as done, with the reference as the external id", async () => {
    const { receiver, ctx } = setup();
    receiver.answer({ status: 202, body: "queued" });
    const result = await sendOrder.run(ctx, { order: danishOrder() });
    expect(result).toEqual({
      externalId: REFERENCE,
      created: true,
      outputs: { payload: "order", idempotencyKey: REFERENCE, status: 202, bodySha256: HEX64 },
    });
  });

  it("adopts what the receiver already has for the key (409 naming the key), with the receiver's id", async () => {
    const first = setup();
    await sendOrder.run(first.ctx, { order: danishOrder() });
    // The same step again without its result (the answer was lost): the receiver knows the key.
    const again = await sendOrder.run(first.ctx, { order: danishOrder() });
    expect(first.receiver.received.map((r) => r.key)).toEqual([REFERENCE, REFERENCE]);
    expect(again).toEqual({
      externalId: "wh_1",
      created: false,
      outputs: {
        payload: "order",
        idempotencyKey: REFERENCE,
        status: 409,
        bodySha256: HEX64,
        receiverId: "wh_1",
        adopted: true,
      },
    });

    for (const field of ["idempotency_key", "reference"]) {
      const named = setup();
      named.receiver.answer({ status: 409, body: { [field]: REFERENCE } });
      expect(await sendOrder.run(named.ctx, { order: danishOrder() }), field).toMatchObject({
        externalId: REFERENCE,
        created: false,
      });
    }
  });

  it("fails for good on a 409 that does not name the key: the receiver's conflict, not a repeat", async () => {
    for (const answer of [undefined, { error: "order #1001 exists with other lines" }, { idempotencyKey: "orderly-other-0" }]) {
      const { receiver, ctx } = setup();
      receiver.answer({ status: 409, ...(answer ? { body: answer } : {}) });
      const error = await failure(sendOrder.run(ctx, { order: danishOrder() }));
      expect(error.retryable).toBe(false);
      expect(error).toMatchObject({ errorClass: "conflict", code: "webhook_out_conflict" });
      expect(error.message).toContain(`The endpoint refused order #1001 (409)${answer ? `: ${JSON.stringify(answer)}` : ""}.`);
      expect(error.message).toContain(`only when its JSON body names this step's Idempotency-Key (${REFERENCE})`);
    }
  });

  it("adopts a bare 409 after an attempt that may have reached the receiver unanswered, but not otherwise", async () => {
    for (const bare of [undefined, "", "Conflict", {}]) {
      const later = setup();
      later.ctx.earlierAttemptUnsettled = true;
      later.receiver.answer({ status: 409, ...(bare === undefined ? {} : { body: bare }) });
      expect(await sendOrder.run(later.ctx, { order: danishOrder() }), JSON.stringify(bare)).toEqual({
        externalId: REFERENCE,
        created: false,
        outputs: { payload: "order", idempotencyKey: REFERENCE, status: 409, bodySha256: HEX64, adopted: true },
      });

      const first = setup();
      // A first attempt, or one after a refusal: nothing of ours can have reached the receiver unanswered.
      first.ctx.earlierAttemptUnsettled = false;
      first.receiver.answer({ status: 409, ...(bare === undefined ? {} : { body: bare }) });
      const error = await failure(sendOrder.run(first.ctx, { order: danishOrder() }));
      expect(error).toMatchObject({ errorClass: "conflict", code: "webhook_out_conflict", retryable: false });
    }
    // Words that do not name the key stay the receiver's refusal, whatever came before.
    for (const answer of [
      { error: "order #1001 exists with other lines" },
      { idempotencyKey: "orderly-other-0" },
      "duplicate SKU",
    ]) {
      const { receiver, ctx } = setup();
      ctx.earlierAttemptUnsettled = true;
      receiver.answer({ status: 409, body: answer });
      const error = await failure(sendOrder.run(ctx, { order: danishOrder() }));
      expect(error.message).toContain("The endpoint refused order #1001 (409): ");
    }
  });

  it("retries a 429 after its Retry-After", async () => {
    const { receiver, ctx } = setup();
    receiver.answer({ status: 429, body: { message: "slow down" }, headers: { "retry-after": "120" } });
    const error = await failure(sendOrder.run(ctx, { order: danishOrder() }));
    expect(error.retryable).toBe(true);
    expect(error).toMatchObject({ errorClass: "rate_limited", retryAfterSeconds: 120 });
  });

  it("retries 500, 408 and 425 (Too Early, with its Retry-After)", async () => {
    for (const [status, errorClass] of [
      [500, "unavailable"],
      [408, "unavailable"],
      [425, "unavailable"],
    ] as const) {
      const { receiver, ctx } = setup();
      receiver.answer({ status, body: "busy", headers: { "retry-after": "7" } });
      const error = await failure(sendOrder.run(ctx, { order: danishOrder() }));
      expect(error.retryable, String(status)).toBe(true);
      expect(error.errorClass).toBe(errorClass);
      if (status === 425) expect(error.retryAfterSeconds).toBe(7);
      else expect(error.message).toContain(`The endpoint (wms.example.com) answered ${status}`);
    }
  });

  it("retries a 503 after its Retry-After, in seconds or as a date", async () => {
    const { receiver, ctx } = setup();
    receiver.answer({ status: 503, body: "maintenance", headers: { "retry-after": "300" } });
    const error = await failure(sendOrder.run(ctx, { order: danishOrder() }));
    expect(error.retryable).toBe(true);
    expect(error).toMatchObject({ errorClass: "unavailable", retryAfterSeconds: 300 });
    expect(error.message).toContain("The endpoint (wms.example.com) answered 503");

    const dated = setup();
    const at = new Date(Date.now() + 3_600_000).toUTCString();
    dated.receiver.answer({ status: 503, headers: { "retry-after": at } });
    const later = await failure(sendOrder.run(dated.ctx, { order: danishOrder() }));
    expect(later.retryAfterSeconds).toBeGreaterThan(3000);

    const none = setup();
    none.receiver.answer({ status: 503 });
    expect((await failure(sendOrder.run(none.ctx, { order: danishOrder() }))).retryAfterSeconds).toBeUndefined();
  });

  it("retries when the endpoint cannot be reached", async () => {
    const { spy, ctx } = setup();
    spy.mockRejectedValueOnce(new TypeError("Network connection lost."));
    const error = await failure(sendOrder.run(ctx, { order: danishOrder() }));
    expect(error).toMatchObject({ errorClass: "unavailable", code: "outbound_network" });
    expect(error.retryable).toBe(true);
  });

  it("fails for good on a 422, with the first 300 characters of the receiver's answer in the reason", async () => {
    const { receiver, ctx } = setup();
    const answer = { error: "unknown SKU TS-1", detail: "x".repeat(400) };
    receiver.answer({ status: 422, body: answer });
    const error = await failure(sendOrder.run(ctx, { order: danishOrder() }));
    expect(error.retryable).toBe(false);
    expect(error.errorClass).toBe("validation");
    expect(error.message).toBe(
      `The endpoint refused order #1001 (422): ${JSON.stringify(answer).slice(0, 300)}…. Fix what it names (in the shop's order or in the receiver), then retry the transfer.`,
    );
    expect(error.details).toEqual(answer);
  });

  it("fails for good on a 401, pointing at the credentials", async () => {
    const { receiver, ctx } = setup();
    receiver.answer({ status: 401, body: "invalid token" });
    const error = await failure(sendOrder.run(ctx, { order: danishOrder() }));
    expect(error.errorClass).toBe("auth");
    expect(error.message).toBe(
      "The endpoint refused order #1001 (401): invalid token. Check the connection's bearer token and signing secret against what the receiver expects.",
    );
  });

  it("does not follow a redirect, and says where it pointed", async () => {
    const { receiver, ctx } = setup();
    receiver.answer({ status: 308, headers: { location: "https://other.example.com/orders" } });
    const error = await failure(sendOrder.run(ctx, { order: danishOrder() }));
    expect(error).toMatchObject({ errorClass: "validation", code: "webhook_out_redirected" });
    expect(error.message).toContain("redirected order #1001 (308) to https://other.example.com/orders");
    expect(receiver.received).toHaveLength(1);
  });
});

describe("webhook-out sendOrder: effectively once and bounded", () => {
  it("sends nothing on a re-run of a step that succeeded before (prior)", async () => {
    const { receiver, ctx, spy } = setup();
    const prior: ActionResult = {
      externalId: "wh_9",
      created: true,
      outputs: { payload: "order", idempotencyKey: REFERENCE, status: 201, receiverId: "wh_9" },
    };
    ctx.prior = prior;
    const result = await sendOrder.run(ctx, { order: danishOrder() });
    expect(spy).not.toHaveBeenCalled();
    expect(receiver.received).toEqual([]);
    expect(result).toMatchObject({
      externalId: "wh_9",
      created: false,
      // Sent before its body's hash was kept: whether it changed is unknown, and nothing is reported.
      outputs: { receiverId: "wh_9", deduplicated: true, changedSinceSent: null },
    });
    expect(result.outputs).not.toHaveProperty("differences");
  });

  it("on a re-run after the order changed, sends nothing and says so in `differences`, for the alert", async () => {
    const first = setup({ step: { payload: "pickList" } });
    const sent = await sendOrder.run(first.ctx, { order: danishOrder() });
    expect(sent.outputs.bodySha256).toMatch(/^[0-9a-f]{64}$/);

    // The same order again: nothing sent, nothing to report.
    const same = setup({ step: { payload: "pickList" } });
    same.ctx.prior = sent;
    const unchanged = await sendOrder.run(same.ctx, { order: danishOrder() });
    expect(same.receiver.received).toEqual([]);
    expect(unchanged.outputs).toMatchObject({ deduplicated: true, changedSinceSent: false });
    expect(unchanged.outputs).not.toHaveProperty("differences");

    // Two T-shirts now: the warehouse has the first pick list, and must hear of the change from a person.
    const changed = setup({ step: { payload: "pickList" } });
    changed.ctx.prior = sent;
    const order = danishOrder();
    const more = { ...order, lines: order.lines.map((l) => ({ ...l, quantity: 2 })) };
    const result = await sendOrder.run(changed.ctx, { order: more });
    expect(changed.receiver.received).toEqual([]);
    expect(result).toMatchObject({ externalId: "wh_1", created: false, outputs: { changedSinceSent: true } });
    // The hash kept is still that of the body sent, so every later re-run compares with it.
    expect(result.outputs.bodySha256).toBe(sent.outputs.bodySha256);
    expect(result.outputs.differences).toEqual([
      `the order changed after it was sent to the endpoint (Idempotency-Key ${REFERENCE}): Orderly does not send it again under the same key, so send the change to the warehouse by hand.`,
    ]);
    expect(webhookBody(more, "pickList", REFERENCE, undefined).text).not.toBe(first.receiver.received[0]?.raw);
  });

  it("refuses a body over 256 KB before sending anything", async () => {
    const { receiver, ctx, spy, mapped } = setup();
    const order = danishOrder({ note: "n".repeat(300 * 1024) });
    const error = await failure(sendOrder.run(ctx, { order }));
    expect(error).toMatchObject({ errorClass: "too_large", code: "webhook_out_body_too_large", madeNothing: true });
    expect(error.retryable).toBe(false);
    expect(error.message).toContain("Order #1001 is 301 KB as JSON, more than the 256 KB");
    expect(error.message).toContain("Send the pick list payload instead");
    expect(spy).not.toHaveBeenCalled();
    expect(receiver.received).toEqual([]);
    expect(mapped).toEqual([]);
  });
});
