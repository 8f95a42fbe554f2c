/**
 * Pure mapping from a canonical order to the body of `POST /invoices/drafts`. e-conomic takes net
 * unit prices (VAT follows from the product and the recipient's VAT zone), as JSON numbers in major
 * units with at most two decimals, so VAT-inclusive shop prices are turned into net here.
 */
import { OrderlyError } from "../../domain/errors";
import { invoiceLinesFromOrder } from "../../domain/invoice-lines";
import { divideRounded, minorUnitExponent, toMajorNumber } from "../../domain/money";
import type { CanonicalOrder } from "../../domain/order";
import { compact, countryName, customerName, invoiceAddress, streetAddress } from "./economic.customer";
import type { CreateInvoiceSettings } from "./economic.settings";
import { vatZoneNumberFor } from "./economic.vat-zone";

/** `references.other` is a string of at most 250 characters. */
const REFERENCE_MAX = 250;
const PRODUCT_NUMBER_MAX = 25;

export interface DraftInvoiceLine {
  lineNumber: number;
  product: { productNumber: string };
  description: string;
  quantity: number;
  unitNetPrice: number;
}

export interface DraftInvoiceBody {
  date: string;
  currency: string;
  customer: { customerNumber: number };
  layout: { layoutNumber: number };
  paymentTerms: { paymentTermsNumber: number };
  recipient: {
    name: string;
    address?: string;
    zip?: string;
    city?: string;
    country?: string;
    vatZone: { vatZoneNumber: number };
  };
  references: { other: string };
  lines: DraftInvoiceLine[];
}

/** The text written to (and searched for in) `references.other`. */
export function economicReference(settings: Pick<CreateInvoiceSettings, "referencePrefix">, reference: string): string {
  const value = `${settings.referencePrefix ?? ""}${reference}`;
  if (value.length > REFERENCE_MAX)
    throw new OrderlyError(`The invoice reference is ${value.length} characters; e-conomic keeps at most ${REFERENCE_MAX}.`, {
      errorClass: "validation",
      code: "economic_reference_too_long",
    });
  return value;
}

/**
 * Net unit price in minor units. When the net total does not divide by the quantity the unit price
 * is rounded half-up, so unit × quantity may miss the total by a few minor units; the cents
 * difference (a rounding line within the tenant's threshold) is handled by a later step of the design.
 */
export function unitNet(netTotalMinor: number, quantity: number): number {
  if (quantity < 0) return unitNet(-netTotalMinor, -quantity);
  return netTotalMinor % quantity === 0 ? netTotalMinor / quantity : divideRounded(netTotalMinor, quantity, "half-up");
}

export function draftInvoiceLines(
  order: CanonicalOrder,
  settings: Pick<CreateInvoiceSettings, "productNumber" | "useSkuAsProductNumber" | "shippingProductNumber">,
): DraftInvoiceLine[] {
  if (minorUnitExponent(order.currency) > 2)
    throw new OrderlyError(`e-conomic prices have at most two decimals, so ${order.currency} amounts cannot be sent exactly.`, {
      errorClass: "validation",
      code: "economic_currency_unsupported",
    });
  const major = (minor: number) => toMajorNumber(minor, order.currency);
  const lines: Omit<DraftInvoiceLine, "lineNumber">[] = invoiceLinesFromOrder(order)
    // Free shipping adds nothing to the invoice and would only require the shipping product to exist.
    .filter((line) => line.kind === "product" || line.net !== 0)
    .map((line) => ({
      product: {
        productNumber: line.kind === "shipping" ? settings.shippingProductNumber : productNumberFor(line.sku, settings),
      },
      description: line.description,
      quantity: line.quantity,
      unitNetPrice: major(unitNet(line.net, line.quantity)),
    }));
  if (lines.length === 0)
    throw new OrderlyError("The order has no lines with a quantity to invoice.", {
      errorClass: "validation",
      code: "economic_no_lines",
    });
  return lines.map((l, i) => ({ lineNumber: i + 1, ...l }));
}

function productNumberFor(
  sku: string | undefined,
  settings: Pick<CreateInvoiceSettings, "productNumber" | "useSkuAsProductNumber">,
): string {
  const candidate = sku?.trim();
  if (settings.useSkuAsProductNumber && candidate && candidate.length <= PRODUCT_NUMBER_MAX) return candidate;
  return settings.productNumber;
}

/**
 * The draft invoice for an order, all but its customer: mapped before anything is created, so an
 * order e-conomic cannot take fails without leaving a new customer behind.
 */
export function mapDraftInvoice(
  order: CanonicalOrder,
  settings: CreateInvoiceSettings,
  reference: string,
): Omit<DraftInvoiceBody, "customer"> {
  const date = order.source.createdAt.slice(0, 10);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date))
    throw new OrderlyError(`The order's creation time "${order.source.createdAt}" does not start with a YYYY-MM-DD date.`, {
      errorClass: "validation",
      code: "economic_date_invalid",
    });
  const name = customerName(order);
  if (!name)
    throw new OrderlyError("The order has no customer name, company or address name, which e-conomic needs on an invoice.", {
      errorClass: "validation",
      code: "economic_customer_name_missing",
    });
  const address = invoiceAddress(order);
  return {
    date,
    currency: order.currency,
    layout: { layoutNumber: settings.layoutNumber },
    paymentTerms: { paymentTermsNumber: settings.paymentTermsNumber },
    recipient: {
      ...compact({
        name,
        address: streetAddress(address),
        zip: address?.postcode,
        city: address?.city,
        country: address?.country ? countryName(address.country) : undefined,
      }),
      vatZone: { vatZoneNumber: vatZoneNumberFor(order, settings) },
    },
    references: { other: reference },
    lines: draftInvoiceLines(order, settings),
  };
}

/** Puts the customer into a mapped draft, where e-conomic's examples have it: after date and currency. */
export function withCustomer(invoice: Omit<DraftInvoiceBody, "customer">, customerNumber: number): DraftInvoiceBody {
  const { date, currency, ...rest } = invoice;
  return { date, currency, customer: { customerNumber }, ...rest };
}

/** The whole body of `POST /invoices/drafts` for an order whose customer is known in e-conomic. */
export function draftInvoiceBody(
  order: CanonicalOrder,
  settings: CreateInvoiceSettings,
  target: { customerNumber: number; reference: string },
): DraftInvoiceBody {
  return withCustomer(mapDraftInvoice(order, settings, target.reference), target.customerNumber);
}
