// Setting up the end-to-end runs through Orderly's public JSON API, as a merchant would: Shopify
// sources, e-conomic connections pointing at the local mock, and flows of createInvoice steps.
import { randomBytes } from "node:crypto";

async function call(orderly, method, path, body) {
  const res = await fetch(`${orderly.api}${path}`, {
    method,
    headers: { authorization: orderly.authorization, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path} → ${res.status} ${text.slice(0, 500)}`);
  return JSON.parse(text);
}

/** At most `limit` calls at once. */
async function inBatches(items, limit, fn) {
  const out = [];
  for (let i = 0; i < items.length; i += limit) out.push(...(await Promise.all(items.slice(i, i + limit).map(fn))));
  return out;
}

export function createEconomicConnections(orderly, baseUrls) {
  return inBatches(baseUrls, 8, async (baseUrl, i) => {
    const made = await call(orderly, "POST", "/connections", {
      connector: "economic",
      name: `Bench e-conomic ${i}`,
      settings: { baseUrl },
      credentials: { appSecretToken: "app-ok", agreementGrantToken: "grant-ok" },
    });
    return made.id;
  });
}

/** A Shopify source per lane, each with one flow: paid → `targets.length` createInvoice steps. */
export function createLanes(orderly, laneTargets, label) {
  return inBatches(laneTargets, 8, async (targets, i) => {
    const secret = randomBytes(24).toString("hex");
    const shop = await call(orderly, "POST", "/connections", {
      connector: "shopify",
      name: `Bench shop ${label}-${i}`,
      webhookSecret: secret,
    });
    await call(orderly, "POST", "/flows", {
      name: `Bench ${label}-${i}: paid → ${targets.length} × createInvoice`,
      source: shop.id,
      stage: "paid",
      steps: targets.map((target) => ({
        target,
        action: "createInvoice",
        // One shared customer and the default product: one call per step on its first attempt (the create;
        // a retry also searches by its reference, two calls more; three calls a step before 2026-11-28).
        settings: { customerMatch: "shared", sharedCustomerNumber: 1, useSkuAsProductNumber: false },
      })),
    });
    return { shopId: shop.id, secret, hookPath: `/hooks/${shop.id}`, steps: targets.length };
  });
}
