/**
 * Lost step messages are counted per dispatch, not per run (`resends`): a report shows the last
 * one arrived, so the count starts again from none, and losses spread over a step's retries do not
 * add up to `step_lost`. A claim does not reset it: a step that keeps crashing its consumer never
 * reports, and must still end failed.
 */
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { OrderDO } from "../../src/durable/order-do";
import type { StepMessage, StepOutcome } from "../../src/durable/order-types";
import { paidOrderWithHeldStep } from "../helpers/step-messages";

/** As if the step's messages had been lost `n` times earlier in its run. */
async function lostBefore(stub: DurableObjectStub<OrderDO>, n: number) {
  await runInDurableObject(stub, (_instance, state) => {
    state.storage.sql.exec("UPDATE step_rows SET resends = ? WHERE step_index = 0", n);
  });
}

async function resends(stub: DurableObjectStub<OrderDO>): Promise<number | undefined> {
  return (await stub.describe()).steps.find((s) => s.step_index === 0)?.resends;
}

async function claim(stub: DurableObjectStub<OrderDO>, message: StepMessage): Promise<string> {
  const token = crypto.randomUUID();
  expect((await stub.claimStep(message, token, { orderInClaim: true })).action).toBe("run");
  return token;
}

const retry: StepOutcome = {
  kind: "retry",
  error: { message: "e-conomic answered 503", code: "http_503", errorClass: "unavailable" },
};

describe("lost step messages", () => {
  it("count again from none once the step reports a retry", async () => {
    const { stub, message } = await paidOrderWithHeldStep();
    await lostBefore(stub, 4);
    const token = await claim(stub, message);
    // A claim alone keeps the count (a consumer that crashes never reports).
    expect(await resends(stub)).toBe(4);
    const verdict = await stub.reportStep({
      transferId: message.transferId,
      stepIndex: 0,
      token,
      outcome: retry,
      latencyMs: 5,
      snapshots: [],
    });
    expect(verdict.next).toBe("retry");
    expect(await resends(stub)).toBe(0);
  });

  it("count again from none once the step reports a success", async () => {
    const { stub, message } = await paidOrderWithHeldStep();
    await lostBefore(stub, 4);
    const token = await claim(stub, message);
    await stub.reportStep({
      transferId: message.transferId,
      stepIndex: 0,
      token,
      outcome: { kind: "ok", result: { externalId: "1", created: true, outputs: {} } },
      latencyMs: 5,
      snapshots: [],
    });
    expect(await resends(stub)).toBe(0);
  });
});
