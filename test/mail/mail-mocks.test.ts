/** The mail mocks themselves: as strict as the vendors, and composable with other fetch mocks. */
import { describe, expect, it } from "vitest";
import { createEconomicMock, installEconomicMock } from "../mocks/economic.mock";
import { createPostmarkMock } from "../mocks/postmark.mock";
import { createResendMock, installMailMocks } from "../mocks/resend.mock";

const post = (url: string, headers: Record<string, string>, body: unknown) =>
  fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json", ...headers },
    body: JSON.stringify(body),
  });

describe("the Resend mock", () => {
  it("answers a missing key, missing fields, bad base64 and a misspelt field in Resend's error shape", async () => {
    const resend = createResendMock({ apiKey: "re_ok" });
    installMailMocks({ resend });
    const auth = { authorization: "Bearer re_ok" };
    const ok = { from: "a@lund.dk", to: ["b@lund.dk"], subject: "S", text: "T" };

    const noKey = await post("https://api.resend.com/emails", {}, ok);
    expect(noKey.status).toBe(401);
    expect(await noKey.json()).toEqual({ statusCode: 401, name: "missing_api_key", message: expect.any(String) });

    const missing = await post("https://api.resend.com/emails", auth, { to: ["b@lund.dk"] });
    expect(missing.status).toBe(422);
    expect(await missing.json()).toMatchObject({ name: "missing_required_field", message: "Missing `from`, `subject` field." });

    const badFile = await post("https://api.resend.com/emails", auth, {
      ...ok,
      attachments: [{ filename: "a.pdf", content: "not base64!" }],
    });
    expect(badFile.status).toBe(422);
    expect(await badFile.json()).toMatchObject({ name: "invalid_attachment" });

    const misspelt = await post("https://api.resend.com/emails", auth, { ...ok, replyTo: "c@lund.dk" });
    expect(misspelt.status).toBe(422);
    expect(resend.state.emails).toHaveLength(0);
  });

  it("replays the first answer for a repeated idempotency key and refuses the key with another body", async () => {
    const resend = createResendMock({ apiKey: "re_ok" });
    installMailMocks({ resend });
    const headers = { authorization: "Bearer re_ok", "idempotency-key": "k1" };
    const body = { from: "a@lund.dk", to: ["b@lund.dk"], subject: "S", text: "T" };
    const first = await (await post("https://api.resend.com/emails", headers, body)).json();
    const again = await (await post("https://api.resend.com/emails", headers, body)).json();
    expect(again).toEqual(first);
    expect(resend.state.emails).toHaveLength(1);
    const other = await post("https://api.resend.com/emails", headers, { ...body, subject: "Other" });
    expect(other.status).toBe(409);
    expect(await other.json()).toMatchObject({ name: "invalid_idempotent_request" });
  });
});

describe("the Postmark mock", () => {
  it("answers a missing token with 401 and a bad request with 422 in Postmark's { ErrorCode, Message } shape", async () => {
    const postmark = createPostmarkMock({ serverToken: "pm" });
    installMailMocks({ postmark });
    const noToken = await post("https://api.postmarkapp.com/email", {}, {});
    expect(noToken.status).toBe(401);
    expect(await noToken.json()).toMatchObject({ ErrorCode: 10 });

    const noBody = await post(
      "https://api.postmarkapp.com/email",
      { "x-postmark-server-token": "pm" },
      { From: "a@lund.dk", To: "b@lund.dk" },
    );
    expect(noBody.status).toBe(422);
    expect(await noBody.json()).toEqual({ ErrorCode: 300, Message: "Provide either email TextBody or HtmlBody or both." });

    const badFile = await post(
      "https://api.postmarkapp.com/email",
      { "x-postmark-server-token": "pm" },
      {
        From: "a@lund.dk",
        To: "b@lund.dk",
        TextBody: "T",
        Attachments: [{ Name: "a.pdf", Content: "%%%", ContentType: "application/pdf" }],
      },
    );
    expect(await badFile.json()).toMatchObject({ ErrorCode: 300, Message: expect.stringContaining("must be base64") });
  });
});

describe("installMailMocks", () => {
  it("composes with the e-conomic mock: each vendor's URL reaches its own mock", async () => {
    const economic = createEconomicMock();
    installEconomicMock(economic);
    const resend = createResendMock({ apiKey: "re_ok" });
    const postmark = createPostmarkMock({ serverToken: "pm" });
    installMailMocks({ resend, postmark });

    const customers = await fetch("https://economic.test/customers", {
      headers: { "x-appsecrettoken": "app-ok", "x-agreementgranttoken": "grant-ok" },
    });
    expect(customers.status).toBe(200);
    const sent = await post(
      "https://api.resend.com/emails",
      { authorization: "Bearer re_ok" },
      { from: "a@lund.dk", to: ["b@lund.dk"], subject: "S", text: "T" },
    );
    expect(sent.status).toBe(200);
    const pm = await post(
      "https://api.postmarkapp.com/email",
      { "x-postmark-server-token": "pm" },
      { From: "a@lund.dk", To: "b@lund.dk", TextBody: "T" },
    );
    expect(pm.status).toBe(200);
    expect(economic.state.requests).toHaveLength(1);
    expect(resend.state.requests).toHaveLength(1);
    expect(postmark.state.requests).toHaveLength(1);
  });

  it("routes a custom base URL and refuses any other address", async () => {
    const resend = createResendMock({ apiKey: "re_ok", baseUrl: "https://mail.test/resend/" });
    const installed = installMailMocks({ resend });
    const sent = await post(
      "https://mail.test/resend/emails",
      { authorization: "Bearer re_ok" },
      { from: "a@lund.dk", to: ["b@lund.dk"], subject: "S", text: "T" },
    );
    expect(sent.status).toBe(200);
    expect(resend.state.requests[0]?.path).toBe("/emails");
    await expect(fetch("https://api.resend.com/emails")).rejects.toThrow("test network is closed");
    expect(installed.unexpected).toEqual(["GET https://api.resend.com/emails"]);
    installed.unexpected.length = 0; // seen and asserted: do not fail the test for it
  });
});
