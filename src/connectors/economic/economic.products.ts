/**
 * Which e-conomic product each document line is booked on. e-conomic derives a line's account and
 * VAT from its product's group and the recipient's VAT zone, so the product is how the VAT decision
 * reaches the books: lines without VAT (gift cards, adjustments, rounding, duties) have their own products,
 * an OSS sale uses the destination country's product, a reduced rate its own product. A SKU is
 * used as the product number only when `GET /products/{productNumber}` finds it (the number in
 * e-conomic's own URL escaping, see resourceId); an unknown SKU falls back to the default product,
 * or is created when the settings allow it.
 */
import type { AccountingDocument, DocumentLine } from "../../domain/accounting/document";
import { OrderlyError } from "../../domain/errors";
import { toMajorNumber } from "../../domain/money";
import { type EconomicContext, economicRequest, isRecord, resourceId } from "./economic.api";
import type { EconomicDocumentSettings } from "./economic.settings";

const PRODUCT_NUMBER_MAX = 25;
/** Longest product name Orderly writes [unconfirmed: e-conomic's documented limit was not retrieved]. */
const PRODUCT_NAME_MAX = 300;

type ProductSettings = Pick<
  EconomicDocumentSettings,
  | "productNumber"
  | "useSkuAsProductNumber"
  | "unknownSkuProductNumber"
  | "createMissingProducts"
  | "productGroupNumber"
  | "shippingProductNumber"
  | "feeProductNumber"
  | "giftCardProductNumber"
  | "roundingProductNumber"
  | "dutiesProductNumber"
  | "ossProducts"
  | "reducedRateProducts"
>;

/** A line's product as far as settings decide it; `sku` asks for the SKU to be checked in e-conomic first. */
export type PlannedProduct = { productNumber: string } | { sku: string };

export interface ResolvedProducts {
  /** Product number per document line, in line order. */
  numbers: string[];
  /** SKUs that were not products in e-conomic and were booked on the default product. */
  defaulted: string[];
  /** Products Orderly created for unknown SKUs. */
  created: string[];
}

/** Pure: the product a line goes on, or the SKU to check; throws naming the setting a mapping is missing from. */
export function planProduct(line: DocumentLine, document: AccountingDocument, settings: ProductSettings): PlannedProduct {
  switch (line.kind) {
    case "rounding":
      return { productNumber: settings.roundingProductNumber };
    case "giftcard":
      return { productNumber: settings.giftCardProductNumber };
    case "duties":
      // Without a duties product they stay where they were booked before the setting existed.
      return { productNumber: settings.dutiesProductNumber ?? settings.roundingProductNumber };
  }
  const { vat } = document;
  if (vat.case === "oss") {
    const country = vat.destination;
    // "FI:2400" wins over "FI": an order from before a rate change needs the old rate's product.
    const dated = settings.ossProducts[`${country}:${line.vatRateBp}`];
    const key = dated || line.vatRateBp !== vat.standardRateBp ? `${country}:${line.vatRateBp}` : country;
    const product = dated ?? settings.ossProducts[key];
    if (!product)
      throw missing(`ossProducts.${key}`, `"${line.description}" is an OSS sale to ${country} at ${pct(line.vatRateBp)}`);
    return { productNumber: product };
  }
  const vatCharged = vat.case === "domestic" || vat.case === "eu-home-vat";
  if (vatCharged && line.vatRateBp !== vat.standardRateBp) {
    const product = settings.reducedRateProducts[String(line.vatRateBp)];
    if (!product)
      throw missing(
        `reducedRateProducts.${line.vatRateBp}`,
        `"${line.description}" carries ${pct(line.vatRateBp)} VAT, not the standard ${pct(vat.standardRateBp)}`,
      );
    return { productNumber: product };
  }
  if (line.kind === "shipping") return { productNumber: settings.shippingProductNumber };
  if (line.kind === "fee") return { productNumber: settings.feeProductNumber };
  const sku = line.sku?.trim();
  if (settings.useSkuAsProductNumber && sku && sku.length <= PRODUCT_NUMBER_MAX) return { sku };
  return { productNumber: settings.productNumber };
}

/** Resolves every line's product, checking SKUs once each and creating missing ones when allowed. */
export async function resolveProducts(
  ctx: EconomicContext,
  document: AccountingDocument,
  settings: ProductSettings,
): Promise<ResolvedProducts> {
  const planned = document.lines.map((line) => planProduct(line, document, settings));
  if (settings.createMissingProducts && settings.productGroupNumber === undefined && planned.some((p) => "sku" in p))
    throw missing("productGroupNumber", "createMissingProducts is on, so new products need a product group");
  const known = new Map<string, string>();
  const result: ResolvedProducts = { numbers: [], defaulted: [], created: [] };
  for (const [i, plan] of planned.entries()) {
    if ("productNumber" in plan) {
      result.numbers.push(plan.productNumber);
      continue;
    }
    let number = known.get(plan.sku);
    if (number === undefined) {
      number = await productForSku(ctx, plan.sku, document.lines[i]!, document.currency, settings, result);
      known.set(plan.sku, number);
    }
    result.numbers.push(number);
  }
  return result;
}

async function productForSku(
  ctx: EconomicContext,
  sku: string,
  line: DocumentLine,
  currency: string,
  settings: ProductSettings,
  result: ResolvedProducts,
): Promise<string> {
  const lookup = () => economicRequest<unknown>(ctx, { method: "GET", path: `/products/${resourceId(sku)}`, accept: [404] });
  const found = await lookup();
  // A barred product cannot be sold; it is treated like an unknown SKU.
  if (found.status === 200 && !(isRecord(found.body) && found.body.barred === true)) return sku;
  if (found.status === 200 || !settings.createMissingProducts || settings.productGroupNumber === undefined) {
    result.defaulted.push(sku);
    return settings.unknownSkuProductNumber ?? settings.productNumber;
  }
  try {
    await economicRequest(ctx, {
      method: "POST",
      path: "/products",
      json: {
        productNumber: sku,
        name: line.description.slice(0, PRODUCT_NAME_MAX) || sku,
        // The shop's net price as the product's default; Orderly's lines always carry their own price.
        salesPrice: toMajorNumber(line.unitNet, currency),
        productGroup: { productGroupNumber: settings.productGroupNumber },
      },
    });
  } catch (error) {
    // Another order's step with the same new SKU (steps of a connection run side by side) may have
    // made it between the lookup and the POST, which e-conomic then refuses: that product is ours.
    if (!(error instanceof OrderlyError && error.errorClass === "validation")) throw error;
    if ((await lookup()).status !== 200) throw error;
    return sku;
  }
  result.created.push(sku);
  return sku;
}

function missing(setting: string, why: string): OrderlyError {
  return new OrderlyError(`${why}, but the e-conomic setting ${setting} is empty: map it to a product.`, {
    errorClass: "validation",
    code: "economic_setting_missing",
    details: { setting },
  });
}

function pct(bp: number): string {
  return `${bp / 100}%`;
}
