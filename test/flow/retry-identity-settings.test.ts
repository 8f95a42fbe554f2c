/**
 * A retry with the flow's current settings, where a step that ran now has another value for a
 * setting that decides where it looks for what it made (TargetAction.identitySettings: e-conomic's
 * referencePrefix, registerPayment's journalNumber). It would look elsewhere, find nothing and make
 * it again, so it is refused (OrderDO.stepMovedAway), one by one and in a bulk replay.
 */
import { describe, expect, it } from "vitest";
import { createWorld, eventually, settledTransfers, shopifyOrder, type World } from "../helpers/world";
import { createEconomicMock, installEconomicMock } from "../mocks/economic.mock";

type Step = { target: string; action: string; settings: Record<string, unknown> };

async function completedTransfer(world: World, steps: Step[]) {
  const flowId = await world.flow("paid", steps);
  const order = shopifyOrder();
  await world.sendShopify("orders/paid", order);
  const [transfer] = await settledTransfers(world, String(order.id), 1);
  expect(transfer.status).toBe("completed");
  return { flowId, order, transfer };
}

async function setSteps(world: World, flowId: string, steps: Step[]) {
  expect((await world.api(`/flows/${flowId}`, { method: "PATCH", body: { steps } })).status).toBe(200);
}

async function rerun(world: World, transferId: string, useCurrentSettings: boolean) {
  return world.api(`/transfers/${transferId}/retry`, { body: { fromStart: true, useCurrentSettings } });
}

async function completedAgain(world: World, transferId: string) {
  await eventually(async () => {
    const detail = (await world.api(`/transfers/${transferId}`)).body;
    return detail.status === "completed" && detail.attempts.length > 1;
  }, "the re-run");
}

describe("a retry with the flow's current settings", () => {
  it("is refused where a done step's referencePrefix changed (the invoice would be searched under a new reference and made again)", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);
    const world = await createWorld();
    const invoice = { target: world.economicId, action: "createInvoice", settings: { referencePrefix: "SHOP-" } };
    const { flowId, transfer } = await completedTransfer(world, [invoice]);
    expect(mock.state.drafts).toHaveLength(1);

    await setSteps(world, flowId, [{ ...invoice, settings: { referencePrefix: "WEB-" } }]);
    const refused = await rerun(world, transfer.id, true);
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe("transfer_not_retryable");
    expect(refused.body.error.message).toMatch(
      /step 1 \(createInvoice\) is done, and its referencePrefix setting changed from "SHOP-" to "WEB-".*Retry without the flow's current settings.*set referencePrefix of step 1 back to "SHOP-"/,
    );
    // A bulk replay skips it with the same reason.
    const bulk = await world.api("/transfers/retry", {
      body: { status: "completed", fromStart: true, useCurrentSettings: true, flow: flowId },
    });
    expect(bulk.body).toMatchObject({ queued: 0, skipped: [{ id: transfer.id }] });
    expect(bulk.body.skipped[0].reason).toMatch(/referencePrefix setting changed/);
    // A prefix taken away counts as changed too.
    await setSteps(world, flowId, [{ ...invoice, settings: {} }]);
    expect((await rerun(world, transfer.id, true)).body.error.message).toMatch(/from "SHOP-" to not set/);
    expect(mock.state.drafts).toHaveLength(1);

    // Without the flow's current settings the step keeps its prefix, and finds its draft.
    expect((await rerun(world, transfer.id, false)).status).toBe(202);
    await completedAgain(world, transfer.id);
    expect(mock.state.drafts).toHaveLength(1);
    // The old value back, the flow's current settings are taken; other settings changed in place are fine.
    await setSteps(world, flowId, [{ ...invoice, settings: { referencePrefix: "SHOP-", layoutNumber: 20 } }]);
    expect((await rerun(world, transfer.id, true)).status).toBe(202);
    await eventually(
      async () => (await world.api(`/transfers/${transfer.id}`)).body.attempts.length === 3,
      "the re-run with the old prefix",
    );
    await completedAgain(world, transfer.id);
    expect(mock.state.drafts).toHaveLength(1);
  });

  it("is refused where a done registerPayment's journalNumber changed (it would look for its entry in another journal)", async () => {
    const mock = createEconomicMock({ journals: [1, 2] });
    installEconomicMock(mock);
    const world = await createWorld();
    const e = world.economicId;
    const invoice = { target: e, action: "createInvoice", settings: { invoiceState: "booked" } };
    const payment = { target: e, action: "registerPayment", settings: { journalNumber: 1, defaultContraAccountNumber: 5820 } };
    const { flowId, transfer } = await completedTransfer(world, [invoice, payment]);
    expect(mock.state.vouchers).toHaveLength(1);

    await setSteps(world, flowId, [invoice, { ...payment, settings: { ...payment.settings, journalNumber: 2 } }]);
    const refused = await rerun(world, transfer.id, true);
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toMatch(
      /step 2 \(registerPayment\) is done, and its journalNumber setting changed from 1 to 2/,
    );
    expect(mock.state.vouchers).toHaveLength(1);
  });

  it("is refused where a step that failed after an attempt has another prefix now, when resuming from it (not only from the start)", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);
    // Every attempt is answered 503: each may have landed unseen, so the step counts as having run.
    mock.failNext({ status: 503, times: 4, path: /^\/invoices\/drafts$/, method: "POST" });
    const world = await createWorld();
    const invoice = { target: world.economicId, action: "createInvoice", settings: { referencePrefix: "SHOP-" } };
    const flowId = await world.flow("paid", [invoice]);
    const order = shopifyOrder();
    await world.sendShopify("orders/paid", order);
    const [failed] = await settledTransfers(world, String(order.id), 1);
    expect(failed.status).toBe("failed");

    await setSteps(world, flowId, [{ ...invoice, settings: { referencePrefix: "WEB-" } }]);
    const refused = await world.api(`/transfers/${failed.id}/retry`, { body: { useCurrentSettings: true } });
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toMatch(
      /step 1 \(createInvoice\) has run and may have made something.*referencePrefix setting changed from "SHOP-" to "WEB-"/,
    );
    expect(mock.state.drafts).toHaveLength(0);
  });
});
