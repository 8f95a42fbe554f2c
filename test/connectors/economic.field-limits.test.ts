/**
 * Values longer than e-conomic's documented field limits, which it would refuse on every retry: a
 * customer's city (50) and postcode (30) are cut, a recipient EAN over 13 fails before anything is
 * made.
 */
import { describe, expect, it } from "vitest";
import { createInvoice, createOrder } from "../../src/connectors/economic";
import { createEconomicMock, installEconomicMock } from "../mocks/economic.mock";
import { danishOrder, failure, run, sent, writes } from "../mocks/economic.mock.fixtures";

const CITY = "Llanfairpwllgwyngyllgogerychwyrndrobwllllantysiliogogogoch"; // 58 characters
const ZIP = "DK-8000 AARHUS C, POSTBOKS 1234, ATT. LAGER"; // 43 characters

const longAddress = () => {
  const address = { name: "Ane Lund", line1: "Vestergade 1", postcode: ZIP, city: CITY, country: "DK" };
  return danishOrder({ billingAddress: address, shippingAddress: address });
};

describe("e-conomic: a customer's city and postcode longer than e-conomic keeps", () => {
  it("are cut to 50 and 30 characters, so the customer and the invoice are made", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);

    const { result } = await run(createInvoice, longAddress(), { customerMatch: "namePostcode" });

    expect(result).toMatchObject({ created: true, outputs: { customerNumber: 1, customerCreated: true } });
    expect(sent(mock, "POST", "/customers")).toMatchObject({ city: CITY.slice(0, 50), zip: ZIP.slice(0, 30) });
    // The invoice's recipient keeps them whole: its zip holds 50, its city 250.
    expect(sent(mock, "POST", "/invoices/drafts")).toMatchObject({ recipient: { city: CITY, zip: ZIP } });
  });

  it("another order of the buyer finds the customer by name and the cut postcode, making no second", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);
    await run(createInvoice, longAddress(), { customerMatch: "namePostcode" }, { reference: "orderly-a" });

    const { result } = await run(createInvoice, longAddress(), { customerMatch: "namePostcode" }, { reference: "orderly-b" });

    expect(result.outputs).toMatchObject({ customerNumber: 1, customerCreated: false });
    expect(mock.state.customers).toHaveLength(1);
  });
});

describe("e-conomic: a recipient EAN longer than 13 characters", () => {
  it("fails before anything is made, naming the field and the length", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);
    const order = danishOrder({ customer: { email: "kommune@example.dk", company: "Aarhus Kommune", ean: "57980000000001" } });

    for (const action of [createInvoice, createOrder]) {
      const error = await failure(run(action, order));

      expect(error).toMatchObject({
        errorClass: "validation",
        code: "economic_ean_too_long",
        madeNothing: true,
        details: { field: "recipient.ean", length: 14, max: 13 },
      });
      expect(error.message).toMatch(/EAN "57980000000001" is 14 characters; e-conomic's recipient.ean holds at most 13/);
    }
    expect(writes(mock)).toEqual([]);
    expect(mock.state.requests.filter((r) => r.path === "/customers" || r.path.startsWith("/products"))).toEqual([]);
  });

  it("a 13-digit EAN goes onto the invoice", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);
    const order = danishOrder({ customer: { email: "kommune@example.dk", company: "Aarhus Kommune", ean: "5798000000001" } });

    await run(createInvoice, order);

    expect(sent(mock, "POST", "/invoices/drafts")).toMatchObject({ recipient: { ean: "5798000000001" } });
  });
});
