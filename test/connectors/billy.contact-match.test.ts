/**
 * Billy contact matching falls back on name and postcode only when the order lacks the configured
 * property: two customers of the same name in the same postcode must not share a contact (and its
 * invoice e-mails) just because Billy does not know the second one's e-mail yet.
 */
import { describe, expect, it } from "vitest";
import { createInvoice, sendInvoiceEmail } from "../../src/connectors/billy";
import type { CanonicalOrder } from "../../src/domain/order";
import { createBillyMock, installBillyMock } from "../mocks/billy.mock";
import { danishOrder, failure, PRODUCTS, REFERENCE, run, SETTINGS } from "../mocks/billy.mock.fixtures";

const address = { name: "Mette Nielsen", line1: "Nørrebrogade 10", postcode: "2200", city: "København N", country: "DK" };
const FIRST_METTE = { id: "con-mette-a", type: "person", name: "Mette Nielsen", zipcodeText: "2200", countryId: "DK" };
const FIRST_METTE_PERSON = { id: "cp-mette-a", contactId: "con-mette-a", name: "Mette Nielsen", email: "mette.n@a.dk" };

/** The other Mette Nielsen in 2200, ordering with her own e-mail. */
const secondMette = (customer: CanonicalOrder["customer"] = { email: "mette@b.dk", firstName: "Mette", lastName: "Nielsen" }) =>
  danishOrder({ customer, billingAddress: address, shippingAddress: address });

function billy() {
  const mock = createBillyMock({ products: PRODUCTS, contacts: [FIRST_METTE], contactPersons: [FIRST_METTE_PERSON] });
  installBillyMock(mock);
  return mock;
}

describe("Billy contact matching by e-mail", () => {
  it("books another customer of the same name and postcode on her own contact, and e-mails her, not the first", async () => {
    const mock = billy();

    const { result: invoice } = await run(createInvoice, secondMette(), { ...SETTINGS, invoiceState: "booked" });
    await run(sendInvoiceEmail, secondMette(), {}, { previous: [invoice] });

    expect(invoice.outputs).toMatchObject({ contactCreated: true });
    expect(invoice.outputs.contactId).not.toBe(FIRST_METTE.id);
    expect(mock.requests.some((r) => r.path === "/contacts" && r.method === "GET")).toBe(false);
    const [email] = mock.state.emails;
    const recipient = mock.state.contactPersons.find((p) => p.id === email?.contactPersonId);
    expect(recipient).toMatchObject({ contactId: invoice.outputs.contactId, email: "mette@b.dk" });
  });

  it("a retry after the contact was made but its answer lost finds that contact by e-mail, not a second one", async () => {
    const mock = billy();
    mock.failNext({ status: 500, method: "POST", path: /^\/contacts$/, afterEffect: true });

    await failure(run(createInvoice, secondMette()));
    const { result } = await run(createInvoice, secondMette());

    const made = mock.state.contacts.filter((c) => c.id !== FIRST_METTE.id);
    expect(made).toHaveLength(1);
    expect(result.outputs).toMatchObject({ contactId: made[0]?.id, contactCreated: false });
    expect(mock.invoice(result.externalId as string)).toMatchObject({ contactId: made[0]?.id, externalId: REFERENCE });
  });

  it("matches by name and postcode an order without an e-mail", async () => {
    const mock = billy();

    const { result } = await run(createInvoice, secondMette({ firstName: "Mette", lastName: "Nielsen" }));

    expect(result.outputs).toMatchObject({ contactId: FIRST_METTE.id, contactCreated: false });
    expect(mock.state.contacts).toHaveLength(1);
  });

  it("makes a new contact for an order with neither an e-mail nor a postcode (a name alone may be someone else)", async () => {
    const mock = billy();
    const nameOnly = danishOrder({
      customer: { firstName: "Mette", lastName: "Nielsen" },
      billingAddress: { ...address, postcode: undefined },
      shippingAddress: { ...address, postcode: undefined },
    });

    const { result } = await run(createInvoice, nameOnly);

    expect(result.outputs).toMatchObject({ contactCreated: true });
    expect(mock.state.contacts).toHaveLength(2);
  });
});
