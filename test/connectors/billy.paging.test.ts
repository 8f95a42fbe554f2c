/**
 * Contact and product lookups read every page Billy lists. Billy documents list filters for
 * invoices only, so a filter on contacts, contact persons or products may be ignored; Billy then
 * lists every record, 1,000 a page, and the one that matches may be on a later page.
 */
import { describe, expect, it, vi } from "vitest";
import { createInvoice } from "../../src/connectors/billy";
import { createBillyMock, installBillyMock } from "../mocks/billy.mock";
import { danishOrder, PRODUCTS, run, SETTINGS } from "../mocks/billy.mock.fixtures";

const IGNORED = ["contactPersons.email", "contacts.name", "contacts.zipcodeText", "products.productNo"];

/** `n` contacts, each with a contact person, none of them the order's buyer. */
function strangers(n: number) {
  const contacts = Array.from({ length: n }, (_, i) => ({
    id: `con-x${i}`,
    type: "person",
    name: `Buyer ${i}`,
    countryId: "DK",
  }));
  const contactPersons = contacts.map((c, i) => ({
    id: `cp-x${i}`,
    contactId: c.id,
    name: c.name,
    email: `buyer${i}@example.dk`,
  }));
  return { contacts, contactPersons };
}

const ANE_CONTACT = { id: "con-ane", type: "person", name: "Ane Lund", countryId: "DK" };
const ANE_PERSON = { id: "cp-ane", contactId: "con-ane", name: "Ane Lund", email: "ane@example.dk", isPrimary: true };

const gets = (mock: ReturnType<typeof createBillyMock>, path: string) =>
  mock.requests.filter((r) => r.method === "GET" && r.path === path).map((r) => r.query.page ?? "1");

describe("Billy lookups page through lists whose filter Billy ignores", () => {
  it("finds an existing contact person on the second page instead of creating a second contact", async () => {
    const { contacts, contactPersons } = strangers(1_500);
    const mock = createBillyMock({
      products: PRODUCTS,
      contacts: [...contacts, ANE_CONTACT],
      contactPersons: [...contactPersons, ANE_PERSON],
      ignoredFilters: IGNORED,
    });
    installBillyMock(mock);

    const { result } = await run(createInvoice, danishOrder());

    expect(result.outputs).toMatchObject({ contactId: "con-ane", contactCreated: false });
    expect(gets(mock, "/contactPersons")).toEqual(["1", "2"]);
    expect(mock.writes().map((w) => `${w.method} ${w.path}`)).toEqual(["POST /invoices"]);
  });

  it("finds a product by its number on the third page instead of creating it again", async () => {
    const others = Array.from({ length: 2_100 }, (_, i) => ({ id: `prod-x${i}`, name: `Other ${i}`, productNo: `X-${i}` }));
    const mock = createBillyMock({
      products: [...others, ...PRODUCTS],
      contacts: [ANE_CONTACT],
      contactPersons: [ANE_PERSON],
      ignoredFilters: IGNORED,
    });
    installBillyMock(mock);

    const { result } = await run(createInvoice, danishOrder(), { ...SETTINGS, createMissingProducts: true });

    expect(gets(mock, "/products")).toEqual(["1", "2", "3"]);
    expect(mock.writes().map((w) => `${w.method} ${w.path}`)).toEqual(["POST /invoices"]);
    const body = mock.writes()[0]?.body as { invoice: { lines: Array<{ productId: string }> } };
    expect(body.invoice.lines.map((l) => l.productId)).toEqual(["prod-ts1", "prod-shipping"]);
    expect(result.outputs).toMatchObject({ warnings: [] });
    expect(result.outputs.productsCreated).toBeUndefined();
  });

  it("reads only the first page when the filter works", async () => {
    const { contacts, contactPersons } = strangers(1_500);
    const mock = createBillyMock({
      products: PRODUCTS,
      contacts: [...contacts, ANE_CONTACT],
      contactPersons: [...contactPersons, ANE_PERSON],
    });
    installBillyMock(mock);

    await run(createInvoice, danishOrder());

    expect(gets(mock, "/contactPersons")).toEqual(["1"]);
  });

  it("reads ten pages at most, then takes the buyer as new and logs why, instead of failing every new buyer", async () => {
    const { contacts, contactPersons } = strangers(10_001);
    const mock = createBillyMock({ products: PRODUCTS, contacts, contactPersons, ignoredFilters: IGNORED });
    installBillyMock(mock);
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    try {
      const result = await run(createInvoice, danishOrder());
      expect(result.result.created).toBe(true);
      expect(gets(mock, "/contactPersons").slice(0, 10)).toEqual(["1", "2", "3", "4", "5", "6", "7", "8", "9", "10"]);
      expect(warn.mock.calls.map((c) => String(c[0])).join("\n")).toMatch(
        /more than 10 pages of contactPersons for email=ane@example\.dk \(10001 in all\).*merge them/,
      );
    } finally {
      warn.mockRestore();
    }
  });
});
