/**
 * The company's base currency is read from Billy (`GET /organization`) and is fixed: an answer
 * without it fails the step at once, naming the call, instead of being retried for an hour.
 */
import { describe, expect, it } from "vitest";
import { createInvoice } from "../../src/connectors/billy";
import type { CanonicalOrder } from "../../src/domain/order";
import { type BillyMock, createBillyMock, installBillyMock } from "../mocks/billy.mock";
import { danishOrder, failure, PRODUCTS, run, SETTINGS } from "../mocks/billy.mock.fixtures";

/** A SEK order in a EUR shop: the shop's rate could be sent, so the base currency is read. */
const sekOrder = (overrides: Partial<CanonicalOrder> = {}) =>
  danishOrder({ currency: "SEK", exchange: { shopCurrency: "EUR", rate: "0.0874" }, ...overrides });

/** A company of its own per test (the base currency is remembered per token), answering `organization`. */
function billyAnswering(token: string, organization: unknown): BillyMock {
  const mock = createBillyMock({ products: PRODUCTS, accessToken: token });
  const inner = mock.handle;
  mock.handle = (request: Request) =>
    new URL(request.url).pathname === "/organization" ? Promise.resolve(Response.json(organization)) : inner(request);
  installBillyMock(mock);
  return mock;
}

describe("Billy's answer about the company without a base currency", () => {
  it("fails at once (not retried), naming the call, and makes nothing", async () => {
    const mock = billyAnswering("token-no-base", { organization: { id: "org-1", name: "Webshop ApS" } });

    const error = await failure(run(createInvoice, sekOrder(), SETTINGS, { credentials: { accessToken: "token-no-base" } }));

    expect(error).toMatchObject({ errorClass: "validation", code: "billy_unexpected_answer" });
    expect(error.retryable).toBe(false);
    expect(error.message).toMatch(
      /^Billy's answer to GET \/organization carries no base currency \(organization\.baseCurrencyId\)/,
    );
    expect(mock.writes()).toEqual([]);
  });

  it("fails the same way for an answer without the organization at all", async () => {
    billyAnswering("token-no-org", { meta: { success: true } });

    const error = await failure(run(createInvoice, sekOrder(), SETTINGS, { credentials: { accessToken: "token-no-org" } }));

    expect(error).toMatchObject({ errorClass: "validation", code: "billy_unexpected_answer" });
  });

  it("reads the base currency from a list answer too", async () => {
    const mock = billyAnswering("token-listed", { organizations: [{ id: "org-1", baseCurrencyId: "EUR" }] });

    await run(createInvoice, sekOrder(), SETTINGS, { credentials: { accessToken: "token-listed" } });

    const posted = mock.requests.find((r) => r.method === "POST" && r.path === "/invoices")?.body as { invoice: unknown };
    expect(posted.invoice).toMatchObject({ currencyId: "SEK", exchangeRate: 0.0874 });
  });
});
