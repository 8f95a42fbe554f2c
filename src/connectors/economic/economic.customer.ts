/**
 * Finds the order's buyer among the agreement's customers by the configured property, or creates
 * the customer with the fields `POST /customers` requires (currency, customer group, name, payment
 * terms, VAT zone) plus the contact data the order has.
 */
import { OrderlyError } from "../../domain/errors";
import type { Address, CanonicalOrder } from "../../domain/order";
import { type EconomicCollection, type EconomicContext, economicRequest, eqFilter } from "./economic.api";
import type { CreateInvoiceSettings, CustomerMatch } from "./economic.settings";
import { vatZoneNumberFor } from "./economic.vat-zone";

/** e-conomic only offers `vatNumber` to agreements in these countries; elsewhere CVR-style numbers live in corporateIdentificationNumber. */
const VAT_NUMBER_AGREEMENTS = new Set(["SE", "GB", "DE", "PL", "FI"]);

export interface CustomerLookup {
  /** Filterable property of GET /customers. */
  property: string;
  value: string | number;
}

export interface EconomicCustomerRef {
  customerNumber: number;
  created: boolean;
}

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

/**
 * Which property and value identify the buyer. When the order lacks the configured value (no
 * e-mail, say) the name is used, so a retried step still finds the customer it created before.
 */
export function customerLookup(
  order: CanonicalOrder,
  settings: Pick<CreateInvoiceSettings, "customerMatch" | "homeCountry">,
): CustomerLookup | undefined {
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
    case "name": {
      const name = customerName(order);
      return name ? { property: "name", value: name } : undefined;
    }
  }
}

/** The body of `POST /customers` for the order's buyer; properties without a value are omitted (e-conomic refuses null). */
export function customerBody(order: CanonicalOrder, settings: CreateInvoiceSettings): Record<string, unknown> {
  const name = customerName(order);
  if (!name)
    throw new OrderlyError("The order has no customer name, company or address name, which e-conomic needs for a customer.", {
      errorClass: "validation",
      code: "economic_customer_name_missing",
    });
  const address = invoiceAddress(order);
  const lookup = customerLookup(order, settings);
  return compact({
    // Matching by customer number or VAT number only works if the new customer carries that value.
    ...(lookup && lookup.property !== "name" ? { [lookup.property]: lookup.value } : {}),
    name,
    currency: order.currency,
    customerGroup: { customerGroupNumber: settings.customerGroupNumber },
    paymentTerms: { paymentTermsNumber: settings.paymentTermsNumber },
    vatZone: { vatZoneNumber: vatZoneNumberFor(order, settings) },
    email: order.customer?.email?.trim() || undefined,
    telephoneAndFaxNumber: order.customer?.phone?.trim() || address?.phone?.trim() || undefined,
    address: streetAddress(address),
    zip: address?.postcode,
    city: address?.city,
    country: address?.country ? countryName(address.country) : undefined,
  });
}

export async function findOrCreateCustomer(
  ctx: EconomicContext,
  order: CanonicalOrder,
  settings: CreateInvoiceSettings,
): Promise<EconomicCustomerRef> {
  const lookup = customerLookup(order, settings);
  if (lookup) {
    const found = await economicRequest<EconomicCollection<{ customerNumber: number }>>(ctx, {
      method: "GET",
      path: `/customers?${eqFilter(lookup.property, lookup.value)}`,
    });
    const first = found.body.collection[0];
    if (first) return { customerNumber: first.customerNumber, created: false };
  }
  const created = await economicRequest<{ customerNumber: number }>(ctx, {
    method: "POST",
    path: "/customers",
    json: customerBody(order, settings),
  });
  return { customerNumber: created.body.customerNumber, created: true };
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
