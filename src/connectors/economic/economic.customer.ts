/**
 * Finds the order's buyer among the agreement's customers by the configured property (or name and
 * postcode together, or one shared customer), or creates the customer with the fields
 * `POST /customers` requires (currency, customer group, name, payment terms, VAT zone) plus the
 * contact data the order has. Business buyers get the B2B group and terms when they are set.
 */
import { OrderlyError } from "../../domain/errors";
import type { Address, CanonicalOrder } from "../../domain/order";
import { oneAtATime } from "../contract";
import { allEqFilter, type EconomicCollection, type EconomicContext, economicRequest } from "./economic.api";
import type { CustomerMatch, EconomicDocumentSettings } from "./economic.settings";

/**
 * A customer's `city` and `zip` hold at most 50 and 30 characters (customers.post schema); longer,
 * e-conomic refuses the customer on every retry, so they are cut: a merchant prefers the invoice.
 */
const CITY_MAX = 50;
const ZIP_MAX = 30;

/** The postcode as a new customer stores it, and as the name-and-postcode match looks it up. */
function customerZip(address: Address | undefined): string | undefined {
  return address?.postcode?.trim().slice(0, ZIP_MAX) || undefined;
}

/** e-conomic only offers `vatNumber` to agreements in these countries; elsewhere CVR-style numbers live in corporateIdentificationNumber. */
const VAT_NUMBER_AGREEMENTS = new Set(["SE", "GB", "DE", "PL", "FI"]);

export interface CustomerLookup {
  /** Filterable property of GET /customers. */
  property: string;
  value: string | number;
  /** A second condition that must hold as well (zip for name + postcode). */
  and?: { property: string; value: string };
}

export interface EconomicCustomerRef {
  customerNumber: number;
  created: boolean;
}

type MatchSettings = Pick<EconomicDocumentSettings, "customerMatch" | "homeCountry">;
type NewCustomerSettings = Pick<
  EconomicDocumentSettings,
  "customerMatch" | "homeCountry" | "customerGroupNumber" | "customerGroups" | "paymentTermsNumber" | "paymentTerms"
>;

/** The name the customer goes by: company, else person, else the billing or shipping address name. */
export function customerName(order: CanonicalOrder): string | undefined {
  const c = order.customer;
  const person = [c?.firstName, c?.lastName].filter((p) => p?.trim()).join(" ");
  const candidates = [
    c?.company,
    person,
    order.billingAddress?.company,
    order.billingAddress?.name,
    order.shippingAddress?.company,
    order.shippingAddress?.name,
  ];
  return candidates.map((n) => n?.trim()).find((n): n is string => Boolean(n));
}

/** The address printed on the invoice and stored on a new customer. */
export function invoiceAddress(order: CanonicalOrder): Address | undefined {
  return order.billingAddress ?? order.shippingAddress;
}

/** A business buyer: the VAT decision saw a VAT number, or the buyer names a company. */
export function isBusinessBuyer(order: CanonicalOrder, vatB2b: boolean): boolean {
  return vatB2b || Boolean(order.customer?.company?.trim() || order.billingAddress?.company?.trim());
}

/** The B2B or B2C number of a per-buyer-kind setting, else the single number. */
export function forBuyer(map: { b2b?: number; b2c?: number } | undefined, fallback: number, b2b: boolean): number {
  return (b2b ? map?.b2b : map?.b2c) ?? fallback;
}

/**
 * Which property and value identify the buyer. When the order lacks the configured value (no
 * e-mail, say) the name is used, so a retried step still finds the customer it created before.
 */
export function customerLookup(order: CanonicalOrder, settings: MatchSettings): CustomerLookup | undefined {
  const direct = lookupBy(settings.customerMatch, order, settings.homeCountry);
  if (direct) return direct;
  const name = customerName(order);
  return name ? { property: "name", value: name } : undefined;
}

function lookupBy(match: CustomerMatch, order: CanonicalOrder, homeCountry: string): CustomerLookup | undefined {
  const c = order.customer;
  const text = (v: string | undefined) => (v?.trim() ? v.trim() : undefined);
  switch (match) {
    case "email": {
      const email = text(c?.email);
      return email ? { property: "email", value: email } : undefined;
    }
    case "phone": {
      const phone = text(c?.phone) ?? text(invoiceAddress(order)?.phone);
      return phone ? { property: "telephoneAndFaxNumber", value: phone } : undefined;
    }
    case "vatNumber": {
      const vat = text(c?.vatNumber);
      const property = VAT_NUMBER_AGREEMENTS.has(homeCountry) ? "vatNumber" : "corporateIdentificationNumber";
      return vat ? { property, value: vat } : undefined;
    }
    case "customerNumber": {
      const id = text(c?.sourceId);
      return id && /^[1-9]\d{0,8}$/.test(id) ? { property: "customerNumber", value: Number(id) } : undefined;
    }
    case "ean": {
      const ean = text(c?.ean);
      return ean ? { property: "ean", value: ean } : undefined;
    }
    case "namePostcode": {
      const name = customerName(order);
      const zip = customerZip(invoiceAddress(order));
      if (!name) return undefined;
      return zip ? { property: "name", value: name, and: { property: "zip", value: zip } } : { property: "name", value: name };
    }
    case "name":
    case "shared": {
      const name = customerName(order);
      return name ? { property: "name", value: name } : undefined;
    }
  }
}

/** The body of `POST /customers` for the order's buyer; properties without a value are omitted (e-conomic refuses null). */
export function customerBody(
  order: CanonicalOrder,
  settings: NewCustomerSettings,
  target: { b2b: boolean; vatZoneNumber: number; currency: string },
): Record<string, unknown> {
  const name = customerName(order);
  if (!name)
    throw new OrderlyError("The order has no customer name, company or address name, which e-conomic needs for a customer.", {
      errorClass: "validation",
      code: "economic_customer_name_missing",
    });
  const address = invoiceAddress(order);
  const lookup = customerLookup(order, settings);
  const matchValue = lookup && lookup.property !== "name" ? { [lookup.property]: lookup.value } : {};
  return compact({
    // Matching by customer number, VAT number or EAN only works if the new customer carries that value.
    ...matchValue,
    name,
    currency: target.currency,
    customerGroup: { customerGroupNumber: forBuyer(settings.customerGroups, settings.customerGroupNumber, target.b2b) },
    paymentTerms: { paymentTermsNumber: forBuyer(settings.paymentTerms, settings.paymentTermsNumber, target.b2b) },
    vatZone: { vatZoneNumber: target.vatZoneNumber },
    email: order.customer?.email?.trim() || undefined,
    telephoneAndFaxNumber: order.customer?.phone?.trim() || address?.phone?.trim() || undefined,
    ean: order.customer?.ean?.trim() || undefined,
    address: streetAddress(address),
    zip: customerZip(address),
    city: address?.city?.trim().slice(0, CITY_MAX),
    country: address?.country ? countryName(address.country) : undefined,
  });
}

export async function findOrCreateCustomer(
  ctx: EconomicContext,
  order: CanonicalOrder,
  settings: NewCustomerSettings & Pick<EconomicDocumentSettings, "sharedCustomerNumber">,
  target: { b2b: boolean; vatZoneNumber: number; currency: string },
): Promise<EconomicCustomerRef> {
  if (settings.customerMatch === "shared") {
    if (settings.sharedCustomerNumber === undefined)
      throw new OrderlyError("Customer matching is 'shared' but the setting sharedCustomerNumber is empty.", {
        errorClass: "validation",
        code: "economic_setting_missing",
        details: { setting: "sharedCustomerNumber" },
      });
    return { customerNumber: settings.sharedCustomerNumber, created: false };
  }
  const body = customerBody(order, settings, target);
  const lookup = customerLookup(order, settings);
  const create = async (): Promise<EconomicCustomerRef> => {
    const created = await economicRequest<{ customerNumber: number }>(ctx, { method: "POST", path: "/customers", json: body });
    return { customerNumber: created.body.customerNumber, created: true };
  };
  if (!lookup) return create();
  const filter = allEqFilter(lookup.and ? [lookup, lookup.and] : [lookup]);
  const find = async (): Promise<EconomicCustomerRef | undefined> => {
    const found = await economicRequest<EconomicCollection<{ customerNumber: number }>>(ctx, {
      method: "GET",
      path: `/customers?${filter}`,
    });
    const first = found.body.collection[0];
    return first ? { customerNumber: first.customerNumber, created: false } : undefined;
  };
  // Two orders of one new buyer at once would both miss the lookup and both create the customer,
  // so the lookup and the create run holding the buyer. Held before the lookup, not after a miss:
  // a second lookup would cost a call of the vendor's rate, the scarcer resource (docs/scale.md).
  return oneAtATime(ctx, `customer:${filter.toLowerCase()}`, async () => (await find()) ?? create());
}

export function streetAddress(address: Address | undefined): string | undefined {
  const parts = [address?.line1, address?.line2].map((p) => p?.trim()).filter(Boolean);
  return parts.length > 0 ? parts.join(", ") : undefined;
}

/** e-conomic's country is free text; an English name reads better on the invoice than a code. */
export function countryName(code: string): string {
  try {
    return new Intl.DisplayNames(["en"], { type: "region" }).of(code.toUpperCase()) ?? code;
  } catch {
    return code;
  }
}

/** Drops undefined and empty-string properties, so nothing reaches e-conomic as null or blank. */
export function compact<T extends Record<string, unknown>>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined && v !== "")) as T;
}
