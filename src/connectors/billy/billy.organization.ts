/**
 * The Billy company's base currency (the organization's `baseCurrencyId`), the currency its books
 * are kept in. Billy's invoice `exchangeRate` is base-currency units per unit of the invoice's
 * currency, and a cash account without a currency of its own is in it.
 *
 * Read with `GET /organization` (the company of the access token, as Billy's own code examples
 * do), or `GET /organizations/:id` when the connection names an organization (a user-bound token).
 * Billy documents the base currency as immutable, so an isolate keeps it per connection, base URL,
 * organization and token: another token or organization is another company, and is read again.
 */
import { z } from "zod";
import type { AccountingDocument } from "../../domain/accounting/document";
import { OrderlyError } from "../../domain/errors";
import type { CanonicalOrder } from "../../domain/order";
import { toHex } from "../signatures";
import { type BillyContext, billyRequest } from "./billy.api";
import { exchangeRateFor, wantsShopRate } from "./billy.invoice";
import type { BillyDocumentSettings } from "./billy.settings";

const organizationRecord = z.object({ baseCurrencyId: z.string().regex(/^[A-Z]{3}$/) });
/** Billy answers one record under its singular name; the plural, as write answers list it, is read too. */
const organizationAnswer = z.union([
  z.object({ organization: organizationRecord }).transform((a) => a.organization),
  z.object({ organizations: z.tuple([organizationRecord], z.unknown()) }).transform((a) => a.organizations[0]),
]);

/** Companies remembered per isolate; past this, the oldest is dropped. */
const MAX_REMEMBERED = 1_000;
const remembered = new Map<string, string>();

export async function baseCurrency(ctx: BillyContext): Promise<string> {
  const key = await cacheKey(ctx);
  const known = remembered.get(key);
  if (known) return known;
  const organizationId = ctx.connection.settings.organizationId;
  const path = organizationId ? `/organizations/${encodeURIComponent(organizationId)}` : "/organization";
  const res = await billyRequest(ctx, { method: "GET", path });
  const parsed = organizationAnswer.safeParse(res.body);
  if (!parsed.success)
    // Not retried: the base currency is fixed, so the same answer would come back on every retry.
    throw new OrderlyError(
      `Billy's answer to GET ${path} carries no base currency (organization.baseCurrencyId), which Orderly needs to tell whether the webshop's exchange rate, or a cash account without a currency, fits Billy's books. Check that the connection's access token (and organization id, if set) reach the Billy company and that the company has a base currency, then retry.`,
      { errorClass: "validation", code: "billy_unexpected_answer", details: { path, answer: res.body } },
    );
  if (remembered.size >= MAX_REMEMBERED) remembered.delete(remembered.keys().next().value as string);
  remembered.set(key, parsed.data.baseCurrencyId);
  return parsed.data.baseCurrencyId;
}

/** Billy's `exchangeRate` for a document (see exchangeRateFor); the base currency is read only when a rate could be sent. */
export async function documentExchangeRate(
  ctx: BillyContext,
  order: CanonicalOrder,
  document: AccountingDocument,
  settings: Pick<BillyDocumentSettings, "exchangeRateFromShop">,
): Promise<number | undefined> {
  if (!wantsShopRate(order, document, settings)) return undefined;
  return exchangeRateFor(order, document, settings, await baseCurrency(ctx));
}

/** The company a connection reaches: the token is kept only as a digest. */
async function cacheKey(ctx: BillyContext): Promise<string> {
  const { id, settings, credentials } = ctx.connection;
  const token = toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(credentials.accessToken))));
  return JSON.stringify([id, settings.baseUrl, settings.organizationId ?? "", token]);
}
