/**
 * Billy contact matching by name and postcode: the lookup when the order lacks the configured
 * property, and the last one when it has a contact's own property (phone, VAT, EAN, customer
 * number), taking then only a contact that carries it written another way (a retry after a lost
 * POST /contacts answer). Two customers of the same name in the same postcode must not share a
 * contact (its debtor account and invoice e-mails) just because Billy does not know the second one's
 * e-mail or phone: a namesake without the property is not taken, and by e-mail no namesake is.
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
    // By e-mail a namesake is never taken, so name and postcode are not even asked.
    expect(mock.state.contacts).toHaveLength(2);
    expect(mock.requests.filter((r) => r.query.zipcodeText !== undefined)).toEqual([]);
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

describe("Billy contact matching: name and postcode as the last lookup", () => {
  const PHONE = { ...SETTINGS, customerMatch: "phone" as const };
  /** Mette's contact as a person or an import made it: no e-mail, no phone. */
  const METTE_BY_HAND = { id: "con-mette-hand", type: "person", name: "Mette Nielsen", zipcodeText: "2200", countryId: "DK" };

  it("does not take a namesake's contact without an e-mail person: a new contact gets the invoice and its e-mail", async () => {
    const mock = createBillyMock({ products: PRODUCTS, contacts: [METTE_BY_HAND] });
    installBillyMock(mock);

    const { result: invoice } = await run(createInvoice, secondMette(), { ...SETTINGS, invoiceState: "booked" });
    const { result: sent } = await run(sendInvoiceEmail, secondMette(), {}, { previous: [invoice] });

    expect(invoice.outputs).toMatchObject({ contactCreated: true });
    expect(invoice.outputs.contactId).not.toBe(METTE_BY_HAND.id);
    expect(mock.state.contacts).toHaveLength(2);
    const recipient = mock.state.contactPersons.find((p) => p.id === sent.outputs.contactPersonId);
    expect(recipient).toMatchObject({ contactId: invoice.outputs.contactId, email: "mette@b.dk" });
  });

  it("takes neither the namesake with another e-mail nor the one without any", async () => {
    const mock = createBillyMock({
      products: PRODUCTS,
      contacts: [FIRST_METTE, METTE_BY_HAND],
      contactPersons: [FIRST_METTE_PERSON],
    });
    installBillyMock(mock);

    const { result } = await run(createInvoice, secondMette());

    expect(result.outputs).toMatchObject({ contactCreated: true });
    expect(mock.state.contacts).toHaveLength(3);
  });

  it("makes a new contact beside a namesake without a phone number", async () => {
    const mock = createBillyMock({ products: PRODUCTS, contacts: [METTE_BY_HAND] });
    installBillyMock(mock);

    const { result } = await run(
      createInvoice,
      secondMette({ firstName: "Mette", lastName: "Nielsen", phone: "+4512345678" }),
      PHONE,
    );

    expect(result.outputs).toMatchObject({ contactCreated: true });
    expect(mock.state.contacts).toHaveLength(2);
  });

  it("takes a namesake company whose VAT number Billy wrote with spaces", async () => {
    const firma = { ...address, name: "Firma ApS", company: "Firma ApS" };
    const order = danishOrder({
      customer: { email: "buyer@firma.dk", company: "Firma ApS", vatNumber: "DK12345678" },
      billingAddress: firma,
      shippingAddress: firma,
    });
    const spaced = { id: "con-firma", type: "company", name: "Firma ApS", zipcodeText: "2200", registrationNo: "DK 12 34 56 78" };
    const mock = createBillyMock({ products: PRODUCTS, contacts: [spaced] });
    installBillyMock(mock);

    const { result } = await run(createInvoice, order, { ...SETTINGS, customerMatch: "vatNumber" });

    expect(result.outputs).toMatchObject({ contactId: spaced.id, contactCreated: false });
    expect(mock.state.contacts).toHaveLength(1);
  });

  it("makes a new contact beside a namesake with another phone number", async () => {
    const mock = createBillyMock({ products: PRODUCTS, contacts: [{ ...METTE_BY_HAND, phone: "+45 87 65 43 21" }] });
    installBillyMock(mock);

    const { result } = await run(
      createInvoice,
      secondMette({ firstName: "Mette", lastName: "Nielsen", phone: "+4512345678" }),
      PHONE,
    );

    expect(result.outputs).toMatchObject({ contactCreated: true });
    expect(mock.state.contacts).toHaveLength(2);
  });

  it("takes the namesake whose phone carries the Danish calling code the order's number leaves out", async () => {
    const mock = createBillyMock({ products: PRODUCTS, contacts: [{ ...METTE_BY_HAND, phone: "+45 12 34 56 78" }] });
    installBillyMock(mock);

    const { result } = await run(
      createInvoice,
      secondMette({ firstName: "Mette", lastName: "Nielsen", phone: "12345678" }),
      PHONE,
    );

    expect(result.outputs).toMatchObject({ contactId: METTE_BY_HAND.id, contactCreated: false });
    expect(mock.state.contacts).toHaveLength(1);
  });

  it("keeps a namesake apart whose phone carries the code of another country than the order's", async () => {
    const mock = createBillyMock({ products: PRODUCTS, contacts: [{ ...METTE_BY_HAND, phone: "+46 12 34 56 78" }] });
    installBillyMock(mock);

    const { result } = await run(
      createInvoice,
      secondMette({ firstName: "Mette", lastName: "Nielsen", phone: "12345678" }),
      PHONE,
    );

    expect(result.outputs).toMatchObject({ contactCreated: true });
    expect(mock.state.contacts).toHaveLength(2);
  });

  it("keeps a namesake apart whose bare phone only begins with the calling code's digits", async () => {
    const mock = createBillyMock({ products: PRODUCTS, contacts: [{ ...METTE_BY_HAND, phone: "45 12 34 56" }] });
    installBillyMock(mock);

    const { result } = await run(createInvoice, secondMette({ firstName: "Mette", lastName: "Nielsen", phone: "123456" }), PHONE);

    expect(result.outputs).toMatchObject({ contactCreated: true });
    expect(mock.state.contacts).toHaveLength(2);
  });

  it("a retry after a lost POST /contacts answer finds the contact whose phone Billy wrote its own way", async () => {
    const mock = createBillyMock({ products: PRODUCTS });
    installBillyMock(mock);
    // Billy stores the phone number spaced, so the lookup by the order's number misses it.
    const inner = mock.handle;
    mock.handle = async (request: Request) => {
      if (request.method !== "POST" || new URL(request.url).pathname !== "/contacts") return inner(request);
      const body = (await request.json()) as { contact: Record<string, unknown> };
      const spaced = { contact: { ...body.contact, phone: "+45 12 34 56 78" } };
      return inner(new Request(request.url, { method: "POST", headers: request.headers, body: JSON.stringify(spaced) }));
    };
    mock.failNext({ status: 500, method: "POST", path: /^\/contacts$/, afterEffect: true });
    const order = secondMette({ firstName: "Mette", lastName: "Nielsen", phone: "+4512345678" });

    await failure(run(createInvoice, order, PHONE));
    const { result } = await run(createInvoice, order, PHONE);

    expect(mock.state.contacts).toHaveLength(1);
    expect(result.outputs).toMatchObject({ contactId: mock.state.contacts[0]?.id, contactCreated: false });
  });
});
