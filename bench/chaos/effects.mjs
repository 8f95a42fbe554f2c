// Checks the mock's effect log against what the transfers should have done: exactly one effect
// per (order, action), none missing, none the transfers do not explain.

/** Orderly's reference for a transfer's step (src/domain/reference.ts, restated: the test must not import src). */
export const stepReference = (transferId, stepIndex) => `orderly-${transferId}-${stepIndex}`;

/** The effects that count as "made something" at the target (updates and deletes are not second records). */
export const CREATING = new Set(["order", "draft", "book", "payment", "customer"]);

/**
 * `plan` maps a stage to the effects its transfer makes: [{ kind, step }] where `step` is the step
 * whose reference the record carries. `perOrder(orderId)` adds effects keyed otherwise (customers).
 */
export function expectedEffects(transfers, plan, perOrder = () => []) {
  const expected = new Map();
  const orders = new Set();
  for (const t of transfers) {
    orders.add(t.orderId);
    for (const e of plan[t.stage] ?? []) expected.set(`${e.kind}:${stepReference(t.id, e.step)}`, t.orderId);
  }
  for (const orderId of orders) for (const key of perOrder(orderId)) expected.set(key, orderId);
  return expected;
}

export function tallyEffects(effects, expected, orderIds) {
  const counts = new Map();
  for (const e of effects) {
    if (!CREATING.has(e.kind)) continue;
    const key = `${e.kind}:${e.key}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const missing = [];
  const duplicated = [];
  for (const key of expected.keys()) {
    const n = counts.get(key) ?? 0;
    if (n === 0) missing.push(key);
    if (n > 1) duplicated.push(`${key} ×${n}`);
  }
  const unexpected = [...counts.keys()].filter((k) => !expected.has(k)).map((k) => `${k} ×${counts.get(k)}`);
  // An order is lost when any of its effects is missing, or when it has no transfer at all.
  const lostOrders = new Set(missing.map((k) => expected.get(k)));
  const known = new Set(expected.values());
  for (const id of orderIds) if (!known.has(String(id))) lostOrders.add(String(id));
  const applied = [...counts.entries()].filter(([k]) => expected.has(k)).reduce((n, [, c]) => n + c, 0);
  const hidden = effects.filter((e) => e.hidden && CREATING.has(e.kind)).length;
  return {
    expected: expected.size,
    applied,
    missing,
    duplicated,
    unexpected,
    lost: lostOrders.size,
    lostOrders: [...lostOrders],
    hidden,
  };
}
