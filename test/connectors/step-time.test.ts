/**
 * Calls a step makes outside its connection's paced HTTP client (the invoice e-mail's mail
 * provider, the e-conomic PDF's bytes) keep the step's lease: one that could end after it is not
 * started, since another dispatch may run the step again then (and e-mail the invoice twice).
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createInvoice } from "../../src/connectors/economic";
import { bookedInvoicePdf } from "../../src/connectors/economic/economic.pdf";
import { economicConnectionSettings } from "../../src/connectors/economic/economic.settings";
import { createHttpClient } from "../../src/connectors/http";
import { sendMail, withStepTime } from "../../src/mail/send-mail";
import { createConnection, createTenant, outboxRow } from "../mail/mail-helpers";
import { createEconomicMock, installEconomicMock } from "../mocks/economic.mock";
import { BASE_URL, CONNECTION_ID, calls, danishOrder, failure, GOOD_TOKENS, run } from "../mocks/economic.mock.fixtures";
import { createResendMock, installMailMocks } from "../mocks/resend.mock";

/** A step's env whose lease ends `leftMs` from now; each of its calls gets 2 s (OUTBOUND_TIMEOUT_MS in tests). */
const stepEnv = (leftMs: number, pace?: () => Promise<void>) =>
  withStepTime(env, { leaseUntil: Date.now() + leftMs, callTimeoutMs: 2000, ...(pace ? { pace } : {}) });

describe("the invoice e-mail's mail call in a queue step", () => {
  async function resend() {
    const mock = createResendMock({ apiKey: "re_live_ok" });
    installMailMocks({ resend: mock });
    const tenantId = await createTenant();
    const connectionId = await createConnection(
      tenantId,
      "resend",
      { baseUrl: "https://api.resend.com", from: "Lund Shop <invoices@lund.dk>" },
      { apiKey: "re_live_ok" },
    );
    return { mock, tenantId, via: { connectionId } };
  }
  const email = { to: ["ane@example.dk"], subject: "Invoice 1", text: "Attached." };

  it("is not started when it could end after the step's lease; the outbox row says why, and the next attempt sends it", async () => {
    const { mock, tenantId, via } = await resend();
    const error = await failure(sendMail(stepEnv(1000), { tenantId, idempotencyKey: "invoice/late/0", email, via }));
    expect(error).toMatchObject({ code: "step_out_of_time", errorClass: "rate_limited" });
    expect(error.retryable).toBe(true);
    expect(mock.state.requests).toHaveLength(0);
    expect(await outboxRow(tenantId, "invoice/late/0")).toMatchObject({ status: "failed", error: error.message });

    const sent = await sendMail(stepEnv(60_000), { tenantId, idempotencyKey: "invoice/late/0", email, via });
    expect(sent.deduplicated).toBe(false);
    expect(mock.state.requests).toHaveLength(1);
  });

  it("outside a queue step (alerts, invitations) it is sent as before", async () => {
    const { mock, tenantId, via } = await resend();
    await sendMail(env, { tenantId, idempotencyKey: "alert/1", email, via });
    expect(mock.state.requests).toHaveLength(1);
  });
});

describe("the e-conomic PDF fetch in a queue step", () => {
  async function booked() {
    const mock = createEconomicMock();
    installEconomicMock(mock);
    await run(createInvoice, danishOrder(), { invoiceState: "booked" }, { reference: `orderly-invoice-${crypto.randomUUID()}` });
    return mock;
  }
  const ctxIn = (stepEnvironment: Env) => ({
    connection: {
      id: CONNECTION_ID,
      tenantId: "tenant_1",
      settings: economicConnectionSettings.parse({ baseUrl: BASE_URL }),
      credentials: GOOD_TOKENS,
    },
    http: createHttpClient({ timeoutMs: 2000, vendor: "e-conomic" }),
    env: stepEnvironment,
  });

  it("is not started when it could end after the step's lease", async () => {
    const mock = await booked();
    const error = await failure(bookedInvoicePdf(ctxIn(stepEnv(1000)), 1, 2000));
    expect(error.code).toBe("step_out_of_time");
    expect(calls(mock)).not.toContain("GET /invoices/booked/1/pdf");
  });

  it("waits for its slot at the connection's gate like the step's other calls", async () => {
    const mock = await booked();
    let paced = 0;
    const pace = async () => {
      paced++;
    };
    const pdf = await bookedInvoicePdf(ctxIn(stepEnv(60_000, pace)), 1, 2000);
    expect(new TextDecoder().decode(pdf.slice(0, 5))).toBe("%PDF-");
    expect(paced).toBe(1);
    expect(calls(mock)).toContain("GET /invoices/booked/1/pdf");
  });
});
