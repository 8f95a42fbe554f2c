/**
 * sendInvoiceEmail e-mails the invoice to the person of its contact that carries the order's
 * e-mail, never to whoever else the contact holds: the contact may be a namesake's (matched by name
 * and postcode), one matched by phone whose person has another address, or the shared placeholder
 * for consumer orders (often the merchant). A configured contactPersonId must belong to the
 * invoice's contact.
 */
import { describe, expect, it } from "vitest";
import { createInvoice, sendInvoiceEmail } from "../../src/connectors/billy";
import type { CanonicalOrder } from "../../src/domain/order";
import { createBillyMock, installBillyMock } from "../mocks/billy.mock";
import { danishOrder, failure, germanBusinessOrder, PRODUCTS, run, SETTINGS } from "../mocks/billy.mock.fixtures";

type Json = Record<string, unknown>;

const AARHUS = { name: "Ane Lund", line1: "Vestergade 1", postcode: "8000", city: "Aarhus", country: "DK" };
/** Another Ane Lund in 8000, whose contact Billy already has. */
const NAMESAKE = { id: "con-namesake", type: "person", name: "Ane Lund", zipcodeText: "8000", countryId: "DK" };
const NAMESAKE_PERSON = { id: "cp-namesake", contactId: NAMESAKE.id, name: "Ane Lund", email: "other.ane@example.dk" };
/** The shop's placeholder contact for consumer orders, whose person is the merchant. */
const SHARED = { id: "con-shop", type: "company", name: "Webshop consumers", countryId: "DK" };
const MERCHANT = { id: "cp-shop", contactId: SHARED.id, name: "Shop", email: "shop@webshop.dk", isPrimary: true };

/** Books `order` as an approved invoice with `settings`, then runs sendInvoiceEmail with `emailSettings`. */
async function send(
  order: CanonicalOrder,
  billy: { contacts?: Json[]; contactPersons?: Json[] },
  settings: Json = {},
  emailSettings: Json = {},
) {
  const mock = createBillyMock({ products: PRODUCTS, ...billy });
  installBillyMock(mock);
  const { result: invoice } = await run(createInvoice, order, { ...SETTINGS, invoiceState: "booked", ...settings });
  const writesBefore = mock.writes().length;
  const sending = run(sendInvoiceEmail, order, emailSettings, { previous: [invoice] });
  return { mock, invoice, writesBefore, sending };
}

async function refused(sent: Awaited<ReturnType<typeof send>>) {
  const error = await failure(sent.sending);
  expect(error).toMatchObject({ code: "billy_no_recipient", errorClass: "validation", madeNothing: true });
  expect(sent.mock.writes().slice(sent.writesBefore)).toEqual([]);
  expect(sent.mock.state.emails).toEqual([]);
  return error;
}

describe("Billy sendInvoiceEmail reaches the buyer, or no one", () => {
  it("does not e-mail a namesake's contact an order without an e-mail was matched to by name and postcode", async () => {
    const order = danishOrder({ customer: { firstName: "Ane", lastName: "Lund" }, billingAddress: AARHUS });
    const sent = await send(order, { contacts: [NAMESAKE], contactPersons: [NAMESAKE_PERSON] });
    expect(sent.invoice.outputs).toMatchObject({ contactId: NAMESAKE.id });

    const error = await refused(sent);

    expect(error.message).toMatch(/no customer e-mail/);
    expect(error.message).not.toMatch(/contactPersonId/);
  });

  it("does not e-mail the stale address of a contact matched by phone, and says what to fix in Billy", async () => {
    const contact = { id: "con-phone", type: "person", name: "Ane Lund", phone: "+4512345678", countryId: "DK" };
    const stale = { id: "cp-old", contactId: contact.id, name: "Ane Lund", email: "ane@old-job.dk", isPrimary: true };
    const sent = await send(danishOrder(), { contacts: [contact], contactPersons: [stale] }, { customerMatch: "phone" });
    expect(sent.invoice.outputs).toMatchObject({ contactId: contact.id });

    const error = await refused(sent);

    expect(error.message).toMatch(/no contact person with the buyer's e-mail ane@example\.dk/);
    expect(error.message).toMatch(/In Billy, add ane@example\.dk as a contact person/);
    expect(error.message).not.toMatch(/contactPersonId/);
  });

  it("picks the contact's person with the order's e-mail (any case, spaces around) over its primary person", async () => {
    const contact = { id: "con-phone", type: "person", name: "Ane Lund", phone: "+4512345678", countryId: "DK" };
    const persons = [
      { id: "cp-old", contactId: contact.id, name: "Ane Lund", email: "ane@old-job.dk", isPrimary: true },
      { id: "cp-ane", contactId: contact.id, name: "Ane Lund", email: " Ane@Example.DK " },
    ];
    const order = danishOrder({
      customer: { email: "ane@example.dk ", firstName: "Ane", lastName: "Lund", phone: "+4512345678" },
    });
    const sent = await send(order, { contacts: [contact], contactPersons: persons }, { customerMatch: "phone" });

    const { result } = await sent.sending;

    expect(result.outputs).toMatchObject({ contactPersonId: "cp-ane" });
    expect(sent.mock.state.emails).toEqual([expect.objectContaining({ contactPersonId: "cp-ane" })]);
  });

  it("does not e-mail a consumer's invoice on the shared contact to the merchant", async () => {
    const sent = await send(
      danishOrder(),
      { contacts: [SHARED], contactPersons: [MERCHANT] },
      { customerMatch: "shared", sharedContactId: SHARED.id },
    );
    expect(sent.invoice.outputs).toMatchObject({ contactId: SHARED.id });

    const error = await refused(sent);

    expect(error.message).toMatch(/shared contact for consumer orders/);
  });

  it("does not e-mail the shared contact's person the invoice of a consumer without an e-mail either", async () => {
    const order = danishOrder({ customer: { firstName: "Ane", lastName: "Lund" } });
    const sent = await send(
      order,
      { contacts: [SHARED], contactPersons: [MERCHANT] },
      { customerMatch: "shared", sharedContactId: SHARED.id },
    );

    const error = await refused(sent);

    expect(error.message).toMatch(/Order #1001 has no customer e-mail/);
  });

  it("e-mails a business order without an e-mail to its own contact's primary person", async () => {
    const business = germanBusinessOrder();
    const order = { ...business, customer: { ...business.customer, email: undefined } } as CanonicalOrder;
    const contact = { id: "con-meyer", type: "company", name: "Meyer GmbH", registrationNo: "DE123456789", countryId: "DE" };
    const persons = [
      { id: "cp-lager", contactId: contact.id, name: "Lager", email: "lager@meyer.de" },
      { id: "cp-einkauf", contactId: contact.id, name: "Einkauf", email: "einkauf@meyer.de", isPrimary: true },
    ];
    const sent = await send(order, { contacts: [contact], contactPersons: persons }, { customerMatch: "vatNumber" });

    const { result } = await sent.sending;

    expect(result.outputs).toMatchObject({ contactPersonId: "cp-einkauf" });
  });
});

/** A company's contact as its bookkeeper keeps it: one person, the bookkeeping address, primary. */
const FIRMA = { id: "con-firma", type: "company", name: "Firma ApS", countryId: "DK" };
const BOOKKEEPING = {
  id: "cp-bogholderi",
  contactId: FIRMA.id,
  name: "Bogholderi",
  email: "bogholderi@firma.dk",
  isPrimary: true,
};
const FIRMA_ADDRESS = {
  name: "Firma ApS",
  company: "Firma ApS",
  line1: "Vestergade 1",
  postcode: "8000",
  city: "Aarhus",
  country: "DK",
};

/** A Danish business order from one of the company's buyers, with `customer` fields added. */
const firmaOrder = (customer: Partial<NonNullable<CanonicalOrder["customer"]>>) =>
  danishOrder({
    customer: { sourceId: "c-42", email: "buyer@firma.dk", company: "Firma ApS", ...customer },
    billingAddress: FIRMA_ADDRESS,
    shippingAddress: FIRMA_ADDRESS,
  });

describe("Billy sendInvoiceEmail for a business order on its company's own contact", () => {
  const cases: Array<[string, Json, Partial<NonNullable<CanonicalOrder["customer"]>>, Json]> = [
    ["VAT number", { registrationNo: "DK12345678" }, { vatNumber: "DK12345678" }, { customerMatch: "vatNumber" }],
    [
      "VAT number (shared: VAT first)",
      { registrationNo: "DK12345678" },
      { vatNumber: "DK12345678" },
      { customerMatch: "shared", sharedContactId: "con-shop" },
    ],
    ["EAN", { ean: "5790001234567" }, { ean: "5790001234567" }, { customerMatch: "ean" }],
    [
      "VAT number without its country prefix",
      { registrationNo: "12345678", zipcodeText: "8000" },
      { vatNumber: "DK12345678" },
      { customerMatch: "vatNumber" },
    ],
  ];

  it.each(cases)(
    "matched by %s, goes to the contact's primary person when none has the buyer's e-mail",
    async (_, numbers, customer, settings) => {
      const contact = { ...FIRMA, ...numbers };
      const sent = await send(
        firmaOrder(customer),
        { contacts: [contact, SHARED], contactPersons: [BOOKKEEPING, MERCHANT] },
        settings,
      );
      expect(sent.invoice.outputs).toMatchObject({ contactId: FIRMA.id, contactCreated: false });

      const { result } = await sent.sending;

      expect(result.outputs).toMatchObject({ contactPersonId: BOOKKEEPING.id });
      expect(sent.mock.state.emails).toEqual([expect.objectContaining({ contactPersonId: BOOKKEEPING.id })]);
    },
  );

  it("finds the company by a VAT number Billy wrote with spaces, and still prefers the person with the buyer's e-mail", async () => {
    const contact = { ...FIRMA, registrationNo: "DK 12 34 56 78", zipcodeText: "8000" };
    const buyer = { id: "cp-buyer", contactId: FIRMA.id, name: "Buyer", email: "buyer@firma.dk" };
    const spaced = await send(
      firmaOrder({ vatNumber: "DK12345678" }),
      { contacts: [contact], contactPersons: [BOOKKEEPING] },
      { customerMatch: "vatNumber" },
    );
    expect((await spaced.sending).result.outputs).toMatchObject({ contactPersonId: BOOKKEEPING.id });

    const own = await send(
      firmaOrder({ vatNumber: "DK12345678" }),
      { contacts: [contact], contactPersons: [BOOKKEEPING, buyer] },
      { customerMatch: "vatNumber" },
    );
    expect((await own.sending).result.outputs).toMatchObject({ contactPersonId: buyer.id });
  });

  it("goes to any person with an e-mail when the company's contact has no primary one", async () => {
    const contact = { ...FIRMA, registrationNo: "DK12345678" };
    const persons = [
      { id: "cp-nomail", contactId: FIRMA.id, name: "Reception", isPrimary: true },
      { ...BOOKKEEPING, isPrimary: false },
    ];
    const sent = await send(
      firmaOrder({ vatNumber: "DK12345678" }),
      { contacts: [contact], contactPersons: persons },
      { customerMatch: "vatNumber" },
    );

    expect((await sent.sending).result.outputs).toMatchObject({ contactPersonId: BOOKKEEPING.id });
  });

  it("still refuses a business contact matched by phone that does not carry the order's VAT number", async () => {
    const contact = { ...FIRMA, phone: "+4512345678", registrationNo: "DK87654321" };
    const sent = await send(
      firmaOrder({ vatNumber: "DK12345678", phone: "+4512345678" }),
      { contacts: [contact], contactPersons: [BOOKKEEPING] },
      { customerMatch: "phone" },
    );
    expect(sent.invoice.outputs).toMatchObject({ contactId: FIRMA.id });

    const error = await refused(sent);

    expect(error.message).toMatch(/no contact person with the buyer's e-mail buyer@firma\.dk/);
    expect(error.message).toMatch(/put the order's VAT number or EAN on its Billy contact/);
  });

  it("refuses a company contact found by a VAT number the buyer typed, when neither its name nor its address agrees", async () => {
    // Acme's buyer typed Beta's CVR: the invoice lands on Beta's contact, whose bookkeeper must not get it.
    const beta = { id: "con-beta", type: "company", name: "Beta ApS", countryId: "DK", registrationNo: "DK12345678" };
    const betaBooks = { id: "cp-beta", contactId: beta.id, name: "Bogholderi", email: "bogholderi@beta.dk", isPrimary: true };
    const order = danishOrder({
      customer: { sourceId: "c-9", email: "buyer@acme.dk", company: "Acme ApS", vatNumber: "DK12345678" },
      billingAddress: { ...FIRMA_ADDRESS, company: "Acme ApS" },
      shippingAddress: FIRMA_ADDRESS,
    });
    const sent = await send(order, { contacts: [beta], contactPersons: [betaBooks] }, { customerMatch: "vatNumber" });
    expect(sent.invoice.outputs).toMatchObject({ contactId: beta.id });

    await refused(sent);
    expect(sent.mock.state.emails).toEqual([]);
  });

  it("refuses a company contact of another name, even with its primary person at the buyer's e-mail domain", async () => {
    // A domain is no sign: buyer@gmail.com and another company's person at gmail.com share it.
    const contact = { ...FIRMA, name: "Beta ApS", registrationNo: "DK12345678" };
    const gmail = { ...BOOKKEEPING, email: "beta.books@gmail.com" };
    const sent = await send(
      firmaOrder({ vatNumber: "DK12345678", email: "acme.buyer@gmail.com" }),
      { contacts: [contact], contactPersons: [gmail] },
      { customerMatch: "vatNumber" },
    );
    await refused(sent);
    expect(sent.mock.state.emails).toEqual([]);
  });

  it("does not take a customer number as the company's sign (the bookkeeper's numbering may match a shop's id)", async () => {
    const contact = { ...FIRMA, name: "Beta ApS", contactNo: "c-42" };
    const betaBooks = { ...BOOKKEEPING, email: "bogholderi@beta.dk" };
    const sent = await send(
      firmaOrder({}),
      { contacts: [contact], contactPersons: [betaBooks] },
      { customerMatch: "customerNumber" },
    );
    expect(sent.invoice.outputs).toMatchObject({ contactId: FIRMA.id });

    await refused(sent);
  });

  it("still refuses a consumer's contact that carries the order's customer number", async () => {
    const contact = { id: "con-ane", type: "person", name: "Ane Lund", contactNo: "777", countryId: "DK" };
    const old = { id: "cp-old", contactId: contact.id, name: "Ane Lund", email: "ane@old-job.dk", isPrimary: true };
    const sent = await send(danishOrder(), { contacts: [contact], contactPersons: [old] }, { customerMatch: "customerNumber" });
    expect(sent.invoice.outputs).toMatchObject({ contactId: contact.id });

    await refused(sent);
  });
});

describe("Billy sendInvoiceEmail with a configured contactPersonId", () => {
  it("refuses a person of another contact than the invoice's, before anything is sent", async () => {
    const sent = await send(
      danishOrder(),
      { contacts: [NAMESAKE], contactPersons: [NAMESAKE_PERSON] },
      {},
      { contactPersonId: NAMESAKE_PERSON.id },
    );
    expect(sent.invoice.outputs.contactId).not.toBe(NAMESAKE.id);

    const error = await refused(sent);

    expect(error.message).toMatch(/is a person of another Billy contact/);
    expect(error.message).toMatch(/for flows whose invoices all go to one contact/);
    expect(sent.mock.requests).toContainEqual(
      expect.objectContaining({ method: "GET", path: `/contactPersons/${NAMESAKE_PERSON.id}` }),
    );
  });

  it("refuses a person Billy does not have", async () => {
    const error = await refused(await send(danishOrder(), {}, {}, { contactPersonId: "cp-gone" }));

    expect(error.message).toMatch(/contactPersonId cp-gone is not a contact person in Billy/);
  });

  it("e-mails the configured person when it belongs to the invoice's contact", async () => {
    const contact = { id: "con-b2b", type: "company", name: "Ane Lund", phone: "+4512345678", countryId: "DK" };
    const accounts = { id: "cp-accounts", contactId: contact.id, name: "Accounts", email: "accounts@example.dk" };
    const sent = await send(
      danishOrder(),
      { contacts: [contact], contactPersons: [accounts] },
      { customerMatch: "phone" },
      { contactPersonId: accounts.id },
    );

    const { result } = await sent.sending;

    expect(result.outputs).toMatchObject({ contactPersonId: accounts.id });
  });
});
