/**
 * Every Billy invoice line needs a product. A product line is found by its SKU (the Billy product's
 * `productNo`), created when asked, or booked on the default product; shipping, fees, gift cards,
 * rounding and duties use the products named in the step's settings.
 */
import type { DocumentLine } from "../../domain/accounting/document";
import { toMajorNumber } from "../../domain/money";
import { oneAtATime } from "../contract";
import { type BillyContext, billyRequest, changedRecord, envelope, findInList, settingsError } from "./billy.api";
import type { BillyDocumentSettings } from "./billy.settings";

type ProductSettings = Pick<BillyDocumentSettings, "useSkuAsProduct" | "createMissingProducts" | "products" | "newProducts">;
type ProductKey = keyof BillyDocumentSettings["products"];

/** Where a line's product comes from: a SKU to look up, or a product id from the settings. */
export type ProductSource = { kind: "sku"; sku: string } | { kind: "setting"; key: ProductKey; productId: string | undefined };

export function productSourceFor(line: DocumentLine, settings: ProductSettings): ProductSource {
  const p = settings.products;
  switch (line.kind) {
    case "product": {
      const sku = line.sku?.trim();
      return settings.useSkuAsProduct && sku ? { kind: "sku", sku } : { kind: "setting", key: "default", productId: p.default };
    }
    case "shipping":
      return p.shipping ? { kind: "setting", key: "shipping", productId: p.shipping } : setting("default", p.default);
    case "fee":
      return p.fee ? { kind: "setting", key: "fee", productId: p.fee } : setting("default", p.default);
    case "giftcard":
      return setting("giftCard", p.giftCard);
    case "rounding":
      return setting("rounding", p.rounding);
    case "duties":
      // Without a duties product they stay where they were booked before the setting existed.
      return p.duties ? setting("duties", p.duties) : setting("rounding", p.rounding);
  }
}

function setting(key: ProductKey, productId: string | undefined): ProductSource {
  return { kind: "setting", key, productId };
}

/** Fails before any write when a line's product must come from a setting that is empty. */
export function checkProductSettings(lines: readonly DocumentLine[], settings: ProductSettings): void {
  for (const line of lines) {
    const source = productSourceFor(line, settings);
    if (source.kind === "setting" && !source.productId) {
      const set = line.kind === "duties" ? `products.duties (or products.${source.key})` : `products.${source.key}`;
      throw settingsError(
        `"${line.description}" (a ${line.kind} line) needs a Billy product: set ${set} in the step's settings.`,
        "billy_product_missing",
        { setting: line.kind === "duties" ? "products.duties" : `products.${source.key}` },
      );
    }
  }
}

export interface ResolvedProducts {
  ids: string[];
  created: string[];
  warnings: string[];
}

interface BillyProduct {
  id: string;
  productNo?: string | null;
  isArchived?: boolean;
}

/** The Billy product id of each line, looking SKUs up once each and creating them when allowed. */
export async function resolveProducts(
  ctx: BillyContext,
  lines: readonly DocumentLine[],
  currency: string,
  settings: ProductSettings,
): Promise<ResolvedProducts> {
  checkProductSettings(lines, settings);
  const bySku = new Map<string, string | undefined>();
  const result: ResolvedProducts = { ids: [], created: [], warnings: [] };
  for (const line of lines) {
    const source = productSourceFor(line, settings);
    if (source.kind === "setting") {
      result.ids.push(source.productId as string);
      continue;
    }
    if (!bySku.has(source.sku)) {
      const found = await findOrCreateProduct(ctx, line, source.sku, currency, settings);
      bySku.set(source.sku, found.id);
      if (found.created) result.created.push(source.sku);
    }
    let id = bySku.get(source.sku);
    if (!id) {
      if (!settings.products.default)
        throw settingsError(
          `Billy has no product with product number "${source.sku}" ("${line.description}"): create it in Billy, set products.default, or turn on createMissingProducts.`,
          "billy_product_missing",
          { sku: source.sku },
        );
      id = settings.products.default;
      const warning = `SKU "${source.sku}" is not a Billy product; "${line.description}" is booked on the default product.`;
      if (!result.warnings.includes(warning)) result.warnings.push(warning);
    }
    result.ids.push(id);
  }
  return result;
}

/**
 * The product with the SKU, created when the settings allow it. Billy is not known to refuse a
 * second product with the same `productNo`, so two orders with one new SKU at once would both miss
 * the lookup and both create it: the lookup and the create run holding the SKU (taken before the
 * lookup, as for contacts). Without createMissingProducts nothing is created, so nothing is held.
 */
async function findOrCreateProduct(
  ctx: BillyContext,
  line: DocumentLine,
  sku: string,
  currency: string,
  settings: ProductSettings,
): Promise<{ id: string | undefined; created: boolean }> {
  if (!settings.createMissingProducts) return { id: await findProduct(ctx, sku), created: false };
  return oneAtATime(ctx, `product:${sku}`, async () => {
    const id = await findProduct(ctx, sku);
    return id ? { id, created: false } : { id: await createProduct(ctx, line, sku, currency, settings), created: true };
  });
}

/**
 * `GET /products?productNo=`: a filter public integrations use but Billy does not document, so the
 * answer is checked locally and read page by page in case Billy ignores it.
 */
async function findProduct(ctx: BillyContext, sku: string): Promise<string | undefined> {
  const instead = `If Billy now has two products numbered "${sku}", archive one.`;
  const lookup = { resource: "products", filter: { productNo: sku }, instead };
  return (await findInList<BillyProduct>(ctx, lookup, (p) => p.productNo === sku && !p.isArchived))?.id;
}

/** The body of `POST /products` for an unknown SKU: its name, number, account, ruleset and net price. */
export function productBody(line: DocumentLine, sku: string, currency: string, settings: Pick<ProductSettings, "newProducts">) {
  return {
    name: line.description,
    productNo: sku,
    ...(settings.newProducts.accountId ? { accountId: settings.newProducts.accountId } : {}),
    ...(settings.newProducts.salesTaxRulesetId ? { salesTaxRulesetId: settings.newProducts.salesTaxRulesetId } : {}),
    prices: [{ unitPrice: toMajorNumber(line.unitNet, currency), currencyId: currency }],
  };
}

async function createProduct(
  ctx: BillyContext,
  line: DocumentLine,
  sku: string,
  currency: string,
  settings: ProductSettings,
): Promise<string> {
  const res = await billyRequest(ctx, {
    method: "POST",
    path: "/products",
    json: envelope(ctx, "product", productBody(line, sku, currency, settings)),
  });
  return changedRecord<BillyProduct>(res.body, "products", "product").id;
}
