/**
 * Finding a document by its reference checks the reference itself, not only the server's filter:
 * a filter e-conomic ignored would hand back another order's document to adopt and overwrite.
 */
import { describe, expect, it } from "vitest";
import type { EconomicContext } from "../../src/connectors/economic/economic.api";
import { findDraftByReference, findDraftOrderByReference } from "../../src/connectors/economic/economic.reference";
import type { HttpClient } from "../../src/connectors/http";

/** A context whose every GET answers this collection, whatever the filter asked. */
function answering(collection: unknown[]): EconomicContext {
  const http = {
    exchanges: [],
    request: async () => ({ status: 200, headers: new Headers(), body: { collection } }),
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
});
