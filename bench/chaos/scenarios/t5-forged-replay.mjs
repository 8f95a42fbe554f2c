// T5: forged signatures and replays of valid requests. Pass: every forged delivery gets 401 and
// leaves nothing behind; every replay (byte-identical, or with fresh unsigned ids) makes no new
// effect and no new transfer. "Stale" (a signed timestamp outside the replay window) does not
// apply: Shopify and WooCommerce sign the body only, so their replays are caught by dedupe.
import { createHmac, randomUUID } from "node:crypto";
import { waitUntilFinal } from "../api.mjs";
import { percentile, sendPlanned, startWorld } from "../harness.mjs";
import { delivery, orderPayload, refundPayload } from "../shopify.mjs";
import { seconds } from "../util.mjs";

export const STALE_NOTE =
  "stale: not applicable — only schemes that sign a timestamp (Stripe t=, Standard Webhooks webhook-timestamp) can reject stale requests; none of the current sources does (Shopify and WooCommerce sign the body only), so their replays are caught by dedupe, as measured here";

const FORGERIES = [
  [
    "wrong secret",
    (d) => ({ ...d.headers, "x-shopify-hmac-sha256": createHmac("sha256", "not-the-secret").update(d.body).digest("base64") }),
  ],
  [
    "body changed after signing",
    (d) => d.headers,
    (d) => Buffer.from(d.body.toString().replace(/"total_price":"[^"]+"/, '"total_price":"1.00"')),
  ],
  ["no signature", (d) => Object.fromEntries(Object.entries(d.headers).filter(([k]) => k !== "x-shopify-hmac-sha256"))],
  ["garbage signature", (d) => ({ ...d.headers, "x-shopify-hmac-sha256": "AAAA" })],
  [
    "another request's signature",
    (d, other) => ({ ...d.headers, "x-shopify-hmac-sha256": other.headers["x-shopify-hmac-sha256"] }),
  ],
];

export default async function t5(ctx) {
  const { forged = 1000, replays = 1000, valid = 20 } = ctx.load;
  const started = Date.now();
  const world = await startWorld(ctx, {
    name: "t5",
    vars: ctx.vars,
    shops: 1,
    flows: (shop) => ({
      paid: [{ target: shop.economicId, action: "createInvoice", settings: { invoiceState: "booked" } }],
      refunded: [{ target: shop.economicId, action: "createCreditNote", settings: { invoiceState: "booked" } }],
    }),
  });
  try {
    const shop = world.shops[0];
    const firstOrderId = 5_000_001;
    // Valid deliveries first: an orders/paid and a refund per order, settled before the replays.
    const originals = [];
    for (let i = 0; i < valid; i++) {
      originals.push(delivery("orders/paid", orderPayload(firstOrderId + i, { version: 3, paid: true }), shop.secret));
      originals.push(delivery("refunds/create", refundPayload(firstOrderId + i, (firstOrderId + i) * 100 + 1), shop.secret));
    }
    const first = await sendPlanned(
      originals.map((d, i) => ({ at: i * 50, url: shop.hookUrl, delivery: d })),
      { concurrency: 8 },
    );
    const validOk = first.results.filter((r) => r.status === 200).length;
    await waitUntilFinal(world.api, valid * 2, { boundMs: ctx.settleBoundMs });
    const effectsBefore = world.target.effects.length;
    const transfersBefore = (await world.api.transfers()).length;

    // Forged: each kind in turn, on orders of their own, so anything stored would show.
    const forgedPlan = [];
    for (let i = 0; i < forged; i++) {
      const [kind, headers, body] = FORGERIES[i % FORGERIES.length];
      const d = delivery("orders/paid", orderPayload(firstOrderId + 10_000 + i, { version: 3, paid: true }), shop.secret);
      const other = originals[i % originals.length];
      forgedPlan.push({
        at: 0,
        url: shop.hookUrl,
        kind,
        delivery: { ...d, headers: headers(d, other), body: body ? body(d) : d.body },
      });
    }
    // Replays: byte-identical re-sends, and re-sends with fresh unsigned ids (anyone holding a
    // captured request can change headers the signature does not cover).
    const replayPlan = [];
    for (let i = 0; i < replays; i++) {
      const o = originals[Math.floor(ctx.random() * originals.length)];
      const fresh = i % 2 === 1;
      const headers = fresh
        ? {
            ...o.headers,
            "x-shopify-webhook-id": randomUUID(),
            "x-shopify-event-id": randomUUID(),
            "x-shopify-triggered-at": new Date().toISOString(),
          }
        : o.headers;
      replayPlan.push({ at: 0, url: shop.hookUrl, fresh, delivery: { ...o, headers } });
    }
    const forgedSent = await sendPlanned(forgedPlan, { concurrency: 32 });
    const replaySent = await sendPlanned(replayPlan, { concurrency: 32 });
    // Give anything that slipped through time to turn into transfers and effects.
    await waitUntilFinal(world.api, valid * 2, { boundMs: 30_000 });
    const transfersAfter = await world.api.transfers();

    const forgedStatuses = countBy(forgedSent.results.map((r) => r.status));
    const forgedAccepted = forgedSent.results.filter((r) => r.status >= 200 && r.status < 300).length;
    const forged401 = forgedStatuses[401] ?? 0;
    const replayBodies = replaySent.results.map((r) => safeJson(r.text));
    const replayOk = replaySent.results.filter((r) => r.status === 200).length;
    const byteIdentical = replayPlan.map((p, i) => ({ p, b: replayBodies[i] })).filter(({ p }) => !p.fresh);
    // Inbox shards keep no dedupe keys (2026-11-26): a byte-identical replay is stored and handed on,
    // and the order's object drops it; "nothing new" below is what shows it was caught.
    const identicalAnswered = byteIdentical.filter(({ b }) => b?.ok === true).length;
    const freshAccepted = replayPlan.filter((p, i) => p.fresh && replayBodies[i]?.accepted === 1).length;
    const newEffects = world.target.effects.length - effectsBefore;
    const newTransfers = transfersAfter.length - transfersBefore;
    const forgedOrders = transfersAfter.filter((t) => Number(t.orderId) >= firstOrderId + 10_000).length;
    const misses = [];
    if (validOk !== originals.length) misses.push(`${originals.length - validOk} valid deliveries not accepted`);
    if (forgedAccepted > 0) misses.push(`${forgedAccepted} forged deliveries accepted`);
    if (forged401 !== forged)
      misses.push(`${forged - forged401} forged deliveries answered other than 401: ${JSON.stringify(forgedStatuses)}`);
    if (forgedOrders > 0) misses.push(`${forgedOrders} transfers for forged orders`);
    if (replayOk !== replays) misses.push(`${replays - replayOk} replays not answered 200`);
    if (identicalAnswered !== byteIdentical.length)
      misses.push(`${byteIdentical.length - identicalAnswered} byte-identical replays not answered ok`);
    if (newEffects > 0) misses.push(`${newEffects} new effects after replays`);
    if (newTransfers > 0) misses.push(`${newTransfers} new transfers after replays`);
    const pass = misses.length === 0;
    const forgedLatency = forgedSent.results.map((r) => r.ms);
    const figures = {
      pass,
      misses,
      valid: originals.length,
      forged,
      forgedKinds: FORGERIES.map(([k]) => k),
      forged401,
      forgedAccepted,
      replays,
      replaysByteIdentical: byteIdentical.length,
      replaysFreshIds: replays - byteIdentical.length,
      identicalAnswered,
      freshAccepted,
      newEffects,
      newTransfers,
      forgedP99Ms: percentile(forgedLatency, 99),
      stale: STALE_NOTE,
    };
    const line = [
      "T5 forged+replayed:",
      `forged=${forged} (${FORGERIES.length} kinds) → 401=${forged401} accepted=${forgedAccepted}`,
      `replays=${replays} (${byteIdentical.length} byte-identical → answered ok=${identicalAnswered}, dropped by the order's object; ${figures.replaysFreshIds} with fresh unsigned ids → stored as new deliveries=${freshAccepted})`,
      `new effects=${newEffects} new transfers=${newTransfers}`,
      `${STALE_NOTE}.`,
      `total=${seconds(Date.now() - started)}s`,
      pass ? "PASS" : `FAIL (${misses.join("; ")})`,
    ].join(" ");
    return { ...figures, line, durationMs: Date.now() - started };
  } finally {
    await world.stop();
  }
}

function countBy(values) {
  const out = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}

function safeJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
