/**
 * sendInvoiceEmail finds the invoice contact's person on any page: Billy's `contactId` filter on
 * contact persons is unconfirmed, and one it ignores lists every person of the company, 1,000 a page.
 */
import { describe, expect, it } from "vitest";
import { createInvoice, sendInvoiceEmail } from "../../src/connectors/billy";
import { createBillyMock, installBillyMock } from "../mocks/billy.mock";
import { danishOrder, PRODUCTS, run, SETTINGS } from "../mocks/billy.mock.fixtures";

/** `n` contacts of other customers, each with a person that has an e-mail. */
function others(n: number) {
  const contacts = Array.from({ length: n }, (_, i) => ({
    id: `con-x${i}`,
    type: "person",
    name: `Buyer ${i}`,
    countryId: "DK",
  }));
  const contactPersons = contacts.map((c, i) => ({ id: `cp-x${i}`, contactId: c.id, name: c.name, email: `b${i}@example.dk` }));
  return { contacts, contactPersons };
}

const ANE = { id: "con-ane", type: "person", name: "Ane Lund", countryId: "DK" };

/** Books the order on Ane's contact (the shared one, so no lookup lists persons) and e-mails it. */
async function sent(contactPersons: Array<Record<string, unknown>>) {
  const crowd = others(1_500);
  const mock = createBillyMock({
    products: PRODUCTS,
    contacts: [...crowd.contacts, ANE],
    contactPersons: [...crowd.contactPersons, ...contactPersons],
    ignoredFilters: ["contactPersons.contactId"],
  });
  installBillyMock(mock);
  const settings = { ...SETTINGS, invoiceState: "booked", customerMatch: "shared", sharedContactId: ANE.id };
  const { result: invoice } = await run(createInvoice, danishOrder(), settings);
  const { result } = await run(sendInvoiceEmail, danishOrder(), {}, { previous: [invoice] });
  const pages = mock.requests.filter((r) => r.method === "GET" && r.path === "/contactPersons").map((r) => r.query.page ?? "1");
  return { mock, result, pages };
}

describe("Billy sendInvoiceEmail among more than 1,000 contact persons", () => {
  it("finds the contact's person on the second page when Billy ignores the contactId filter", async () => {
    const { mock, result, pages } = await sent([{ id: "cp-ane", contactId: ANE.id, name: "Ane Lund", email: "ane@example.dk" }]);

    expect(result.outputs).toMatchObject({ contactPersonId: "cp-ane" });
    expect(mock.state.emails).toEqual([expect.objectContaining({ contactPersonId: "cp-ane" })]);
    expect(pages).toContain("2");
  });

  it("prefers the primary person on a later page to another of the contact's people on an earlier one", async () => {
    const { result } = await sent([
      { id: "cp-ane-shop", contactId: ANE.id, name: "Shop", email: "shop@example.dk" },
      ...others(1_200).contactPersons.map((p) => ({ ...p, id: `cp-y${p.id}` })),
      { id: "cp-ane", contactId: ANE.id, name: "Ane Lund", email: "ane@example.dk", isPrimary: true },
    ]);

    expect(result.outputs).toMatchObject({ contactPersonId: "cp-ane" });
  });
});
