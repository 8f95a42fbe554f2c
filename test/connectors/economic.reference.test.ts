/**
 * Finding a document by its reference checks the reference itself, not only the server's filter:
 * a filter e-conomic ignored would hand back another order's document to adopt and overwrite.
 */
import { describe, expect, it } from "vitest";
import type { EconomicContext } from "../../src/connectors/economic/economic.api";
import { findDraftByReference, findDraftOrderByReference } from "../../src/connectors/economic/economic.reference";
import type { HttpClient } from "../../src/connectors/http";
import { OrderlyError } from "../../src/domain/errors";

/** A context whose every GET answers this collection, whatever the filter asked. */
function answering(collection: unknown[]): EconomicContext {
  return paging(() => [collection], []);
}

/**
 * A context whose GETs answer page `skippages` of `pages()`, with `nextPage` while another follows
 * (as e-conomic does), whatever the filter asked; each URL asked is kept in `urls`.
 */
function paging(pages: (skip: number) => unknown[][], urls: string[]): EconomicContext {
  const http = {
    exchanges: [],
    request: async ({ url }: { url: string }) => {
      urls.push(url);
      const skip = Number(new URL(url).searchParams.get("skippages") ?? 0);
      const all = pages(skip);
      const more = skip + 1 < all.length;
      return {
        status: 200,
        headers: new Headers(),
        body: { collection: all[skip] ?? [], pagination: more ? { nextPage: `https://restapi.e-conomic.com/next` } : {} },
      };
    },
  } as unknown as HttpClient;
  return {
    connection: {
      id: "con_e",
      tenantId: "ten_e",
      settings: { baseUrl: "https://restapi.e-conomic.com" },
      credentials: { appSecretToken: "a", agreementGrantToken: "b" },
    },
    http,
  } as unknown as EconomicContext;
}

describe("finding an e-conomic document by its reference", () => {
  it("passes over documents that carry another reference, as when the server ignored the filter", async () => {
    const ctx = answering([
      { orderNumber: 7, references: { other: "orderly-OTHER" }, customer: { customerNumber: 1 } },
      { orderNumber: 8, references: { other: "orderly-MINE" }, customer: { customerNumber: 2 } },
    ]);
    expect(await findDraftOrderByReference(ctx, "orderly-MINE")).toEqual({ orderNumber: 8, customerNumber: 2 });
    expect(await findDraftOrderByReference(ctx, "orderly-NONE")).toBeUndefined();
  });

  it("takes the filter's word for a summary without references", async () => {
    const ctx = answering([{ draftInvoiceNumber: 3, customer: { customerNumber: 4 } }]);
    expect(await findDraftByReference(ctx, "orderly-MINE")).toEqual({ kind: "draft", draftInvoiceNumber: 3, customerNumber: 4 });
  });

  it("reads every page, 1,000 at a time, for the order carrying the reference (the /orders/drafts filter is unconfirmed)", async () => {
    const urls: string[] = [];
    const others = Array.from({ length: 1000 }, (_, i) => ({ orderNumber: i + 1, references: { other: `orderly-${i}` } }));
    const ctx = paging(() => [others, [{ orderNumber: 1001, references: { other: "orderly-MINE" } }]], urls);

    expect(await findDraftOrderByReference(ctx, "orderly-MINE")).toEqual({ orderNumber: 1001, customerNumber: undefined });
    expect(urls.map((u) => new URL(u).search)).toEqual([
      `?filter=references.other%24eq%3Aorderly-MINE&skippages=0&pagesize=1000`,
      `?filter=references.other%24eq%3Aorderly-MINE&skippages=1&pagesize=1000`,
    ]);
  });

  it("takes a summary without references only when it is the filter's single result", async () => {
    const two = answering([{ orderNumber: 7 }, { orderNumber: 8 }]);
    expect(await findDraftOrderByReference(two, "orderly-MINE")).toBeUndefined();
    const acrossPages = paging(() => [[{ orderNumber: 7 }], [{ orderNumber: 8 }]], []);
    expect(await findDraftOrderByReference(acrossPages, "orderly-MINE")).toBeUndefined();
  });

  it("stops after 10 pages and fails, naming the endpoint, rather than guess the document is not there", async () => {
    const urls: string[] = [];
    const endless = paging((skip) => Array.from({ length: skip + 2 }, () => [{ orderNumber: 1 }]), urls);

    const error = await findDraftOrderByReference(endless, "orderly-MINE").catch((e: unknown) => e);

    expect(error).toBeInstanceOf(OrderlyError);
    expect(error).toMatchObject({ errorClass: "validation", code: "economic_reference_filter_ignored" });
    expect((error as Error).message).toMatch(/\/orders\/drafts .*check in e-conomic/);
    expect(urls).toHaveLength(10);
  });
});
