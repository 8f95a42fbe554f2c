/**
 * e-conomic's sendInvoiceEmail mails the customer. Deployed (the test env: DEV_SEED_TOKEN is empty
 * in wrangler.toml), a step without a mail connection fails before anything is fetched, instead of
 * completing with the invoice "sent" through the dev outbox, which delivers nothing; it never falls
 * back to the operator's system sender. Locally the dev outbox stays.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { ActionContext, ActionResult } from "../../src/connectors/contract";
import {
  createInvoice,
  type EconomicConnectionSettings,
  type EconomicCredentials,
  economicConnectionSettings,
  sendInvoiceEmail,
} from "../../src/connectors/economic";
import { createHttpClient } from "../../src/connectors/http";
import { database } from "../../src/db/client";
import { tenants } from "../../src/db/schema";
import { createConnection, outboxRow } from "../mail/mail-helpers";
import { createEconomicMock, type EconomicMock, installEconomicMock } from "../mocks/economic.mock";
import { BASE_URL, CONNECTION_ID, calls, danishOrder, done, failure, GOOD_TOKENS, run } from "../mocks/economic.mock.fixtures";
import { createPostmarkMock, installMailMocks } from "../mocks/postmark.mock";
import { createResendMock } from "../mocks/resend.mock";
import { SYSTEM_MAIL_KEY, SYSTEM_MAIL_VARS } from "../ui/system-mail";

const TENANT = "tenant_1";
const local = { ...env, DEV_SEED_TOKEN: "local" } as Env;

/** The step as the queue runs it, on the given env (the fixtures' runner always uses the test env). */
async function sendOn(
  on: Env,
  settings: Record<string, unknown>,
  options: { history: ReturnType<typeof done>[]; reference: string; prior?: ActionResult },
) {
  const ctx: ActionContext<
    ReturnType<typeof sendInvoiceEmail.settings.parse>,
    EconomicCredentials,
    EconomicConnectionSettings
  > = {
    connection: {
      id: CONNECTION_ID,
      tenantId: TENANT,
      settings: economicConnectionSettings.parse({ baseUrl: BASE_URL }),
      credentials: GOOD_TOKENS,
    },
    settings: sendInvoiceEmail.settings.parse(settings),
    reference: options.reference,
    http: createHttpClient({ timeoutMs: 2000, vendor: "e-conomic" }),
    mapped: () => {},
    previous: [],
    history: options.history,
    ...(options.prior ? { prior: options.prior } : {}),
    env: on,
  };
  return sendInvoiceEmail.run(ctx, { order: danishOrder() });
}

async function bookedInvoice(mock: EconomicMock) {
  installEconomicMock(mock);
  await database(env).insert(tenants).values({ id: TENANT, name: "Lund" }).onConflictDoNothing();
  const invoice = await run(createInvoice, danishOrder(), { invoiceState: "booked" }, { reference: "orderly-invoice-0" });
  return { history: [done("createInvoice", invoice.result)], reference: `orderly-mail-${crypto.randomUUID()}-2` };
}

const pdfCalls = (mock: EconomicMock) => calls(mock).filter((c) => c.endsWith("/pdf")).length;

describe("e-conomic sendInvoiceEmail without a mail connection, deployed", () => {
  it("fails with a reason the merchant can act on, before fetching the PDF, and records no sent email", async () => {
    const mock = createEconomicMock();
    const { history, reference } = await bookedInvoice(mock);
    const before = pdfCalls(mock);

    const error = await failure(sendOn(env, {}, { history, reference }));

    expect(error).toMatchObject({ errorClass: "validation", code: "economic_no_mail_connection", madeNothing: true });
    expect(error.message).toMatch(/no mail connection\. Choose a mail connection .* in the step's settings/);
    expect(error.retryable).toBe(false);
    expect(pdfCalls(mock)).toBe(before);
    expect(await outboxRow(TENANT, reference)).toBeUndefined();
  });

  it("does not send the customer's invoice through the operator's system sender either", async () => {
    const mock = createEconomicMock();
    const { history, reference } = await bookedInvoice(mock);
    const system = createResendMock({ apiKey: SYSTEM_MAIL_KEY });
    installMailMocks({ resend: system });

    const error = await failure(sendOn({ ...env, ...SYSTEM_MAIL_VARS } as Env, {}, { history, reference }));

    expect(error.code).toBe("economic_no_mail_connection");
    expect(system.state.requests).toEqual([]);
    expect(await outboxRow(TENANT, reference)).toBeUndefined();
  });

  it("a re-run that finds the step's own earlier success for the same invoice still sends nothing, and does not fail", async () => {
    const mock = createEconomicMock();
    const { history, reference } = await bookedInvoice(mock);
    const prior = { externalId: "pm-1", created: true, outputs: { bookedInvoiceNumber: 1, mailId: "mail_old" } };

    const again = await sendOn(env, {}, { history, reference, prior });

    expect(again).toMatchObject({ created: false, outputs: { deduplicated: true, mailId: "mail_old" } });
  });
});

describe("e-conomic sendInvoiceEmail with a mail connection, or in local development", () => {
  it("deployed, sends it through the step's mail connection", async () => {
    const mock = createEconomicMock();
    const { history, reference } = await bookedInvoice(mock);
    const postmark = createPostmarkMock({ serverToken: "pm-ok" });
    installMailMocks({ postmark });
    const mailConnection = await createConnection(TENANT, "postmark", { from: "shop@lund.dk" }, { serverToken: "pm-ok" });

    const result = await sendOn(env, { mailConnection }, { history, reference });

    expect(result).toMatchObject({ created: true, outputs: { provider: "postmark", to: "ane@example.dk", deduplicated: false } });
    expect(postmark.state.emails).toHaveLength(1);
    expect(await outboxRow(TENANT, reference)).toMatchObject({ status: "sent", provider: "postmark" });
  });

  it("locally, without one, the dev outbox keeps it as before", async () => {
    const mock = createEconomicMock();
    const { history, reference } = await bookedInvoice(mock);

    const result = await sendOn(local, {}, { history, reference });

    expect(result).toMatchObject({ created: true, outputs: { provider: "dev" } });
    expect(await outboxRow(TENANT, reference)).toMatchObject({ status: "sent", provider: "dev" });
  });
});
