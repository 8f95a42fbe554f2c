import { describe, expect, it } from "vitest";
import { createHttpClient, type HttpClientOptions, parseRetryAfter } from "../../src/connectors/http";
import { OrderlyError } from "../../src/domain/errors";

interface Call {
  url: string;
  init: RequestInit;
}

/** A fake fetch answering every call with `answer`, and the calls it saw. */
function fakeFetch(answer: (call: Call) => Response | Promise<Response>): { fetch: typeof fetch; calls: Call[] } {
  const calls: Call[] = [];
  const fake: typeof fetch = async (input, init) => {
    const call = { url: String(input), init: init ?? {} };
    calls.push(call);
    return answer(call);
  };
  return { fetch: fake, calls };
}

function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });
}

function client(answer: (call: Call) => Response | Promise<Response>, options: Partial<HttpClientOptions> = {}) {
  const fake = fakeFetch(answer);
  return { http: createHttpClient({ vendor: "e-conomic", timeoutMs: 2000, fetch: fake.fetch, ...options }), calls: fake.calls };
}

async function failure(promise: Promise<unknown>): Promise<OrderlyError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof OrderlyError) return error;
    throw new Error(`expected an OrderlyError, got ${String(error)}`);
  }
  throw new Error("expected the request to fail");
}

const url = "https://restapi.e-conomic.com/invoices/drafts";

describe("createHttpClient on success", () => {
  it("returns the parsed JSON of a 2xx answer", async () => {
    const { http } = client(() => json({ draftInvoiceNumber: 7 }, 201, { location: "/invoices/drafts/7" }));
    const response = await http.request<{ draftInvoiceNumber: number }>({ method: "POST", url, json: { currency: "DKK" } });
    expect(response.status).toBe(201);
    expect(response.body.draftInvoiceNumber).toBe(7);
    expect(response.headers.get("location")).toBe("/invoices/drafts/7");
  });

  it("sends the method, JSON body and headers it was given", async () => {
    const { http, calls } = client(() => json({}));
    await http.request({ method: "PUT", url, json: { a: 1 }, headers: { "X-AppSecretToken": "app-secret" } });
    const [call] = calls;
    expect(call?.url).toBe(url);
    expect(call?.init.method).toBe("PUT");
    expect(call?.init.body).toBe('{"a":1}');
    expect(call?.init.headers).toMatchObject({
      accept: "application/json",
      "content-type": "application/json",
      "X-AppSecretToken": "app-secret",
    });
    expect(call?.init.signal).toBeInstanceOf(AbortSignal);
  });

  it("sends no body and no content type without JSON", async () => {
    const { http, calls } = client(() => json({}));
    await http.request({ method: "GET", url });
    expect(calls[0]?.init.body).toBeUndefined();
    expect(calls[0]?.init.headers).not.toHaveProperty("content-type");
  });

  it("returns null for an empty body and the text for a body that is not JSON", async () => {
    const empty = client(() => new Response(null, { status: 204 }));
    expect((await empty.http.request({ method: "DELETE", url })).body).toBeNull();
    const text = client(() => new Response("OK", { status: 200 }));
    expect((await text.http.request({ method: "GET", url })).body).toBe("OK");
  });

  it("returns a status the caller accepts instead of throwing", async () => {
    const { http } = client(() => json({ message: "not found" }, 404));
    const response = await http.request({ method: "GET", url, accept: [404] });
    expect(response.status).toBe(404);
    expect(response.body).toEqual({ message: "not found" });
  });
});

describe("createHttpClient classifying failures", () => {
  it("turns 429 into a rate limit carrying Retry-After in seconds", async () => {
    const { http } = client(() => json({ message: "slow down" }, 429, { "Retry-After": "7" }));
    const error = await failure(http.request({ method: "GET", url }));
    expect(error.errorClass).toBe("rate_limited");
    expect(error.code).toBe("outbound_rate_limited");
    expect(error.retryAfterSeconds).toBe(7);
    expect(error.retryable).toBe(true);
    expect(error.message).toBe("e-conomic answered 429: slow down (rate limited)");
  });

  it("reads a Retry-After given as an HTTP date", async () => {
    const at = new Date(Date.now() + 120_000).toUTCString();
    const { http } = client(() => new Response("", { status: 429, headers: { "Retry-After": at } }));
    const error = await failure(http.request({ method: "GET", url }));
    expect(error.errorClass).toBe("rate_limited");
    expect(error.retryAfterSeconds).toBeGreaterThanOrEqual(118);
    expect(error.retryAfterSeconds).toBeLessThanOrEqual(121);
  });

  it("leaves retryAfterSeconds unset for a 429 without Retry-After", async () => {
    const { http } = client(() => new Response("", { status: 429 }));
    const error = await failure(http.request({ method: "GET", url }));
    expect(error.errorClass).toBe("rate_limited");
    expect(error.retryAfterSeconds).toBeUndefined();
  });

  it("treats 500, 502, 503 and 408 as unavailable and retryable", async () => {
    for (const status of [500, 502, 503, 408]) {
      const { http } = client(() => new Response("upstream trouble", { status }));
      const error = await failure(http.request({ method: "GET", url }));
      expect(error.errorClass, String(status)).toBe("unavailable");
      expect(error.code).toBe("outbound_unavailable");
      expect(error.retryable).toBe(true);
    }
  });

  it("treats 401 and 403 as a credentials problem a person must fix", async () => {
    for (const status of [401, 403]) {
      const { http } = client(() => json({ message: "token revoked" }, status));
      const error = await failure(http.request({ method: "GET", url }));
      expect(error.errorClass, String(status)).toBe("auth");
      expect(error.code).toBe("outbound_auth");
      expect(error.retryable).toBe(false);
      expect(error.message).toContain("Check the connection's credentials.");
      expect(error.details).toEqual({ message: "token revoked" });
    }
  });

  it("turns 400 into a validation error with the body in details and the vendor's own explanation", async () => {
    const body = { errorCode: "E04300", errors: { customer: { errors: [{ errorMessage: "Customer is missing" }] } } };
    const seen: [number, unknown][] = [];
    const { http } = client(() => json(body, 400), {
      describeError: (status, received) => {
        seen.push([status, received]);
        return "Customer is missing";
      },
    });
    const error = await failure(http.request({ method: "POST", url, json: {} }));
    expect(error.errorClass).toBe("validation");
    expect(error.code).toBe("outbound_rejected");
    expect(error.retryable).toBe(false);
    expect(error.details).toEqual(body);
    expect(error.message).toBe("e-conomic answered 400: Customer is missing");
    expect(seen).toEqual([[400, body]]);
  });

  it("falls back to the body's message when describeError has nothing to say", async () => {
    const { http } = client(() => json({ message: "Invalid layout" }, 422), { describeError: () => undefined });
    const error = await failure(http.request({ method: "POST", url, json: {} }));
    expect(error.errorClass).toBe("validation");
    expect(error.message).toBe("e-conomic answered 422: Invalid layout");
  });

  it("quotes the start of a text body in the message", async () => {
    const { http } = client(() => new Response("x".repeat(500), { status: 400 }));
    const error = await failure(http.request({ method: "GET", url }));
    expect(error.message).toBe(`e-conomic answered 400: ${"x".repeat(300)}`);
  });

  it("says only the status when the body explains nothing", async () => {
    const { http } = client(() => new Response(null, { status: 400 }));
    expect((await failure(http.request({ method: "GET", url }))).message).toBe("e-conomic answered 400");
  });

  it("turns an unaccepted 404 into not_found and 409 into conflict", async () => {
    const notFound = await failure(client(() => json({}, 404)).http.request({ method: "GET", url }));
    expect(notFound.errorClass).toBe("not_found");
    expect(notFound.code).toBe("outbound_not_found");
    const conflict = await failure(client(() => json({}, 409)).http.request({ method: "GET", url }));
    expect(conflict.errorClass).toBe("conflict");
    expect(conflict.code).toBe("outbound_conflict");
  });

  it("turns no answer within the deadline into a timeout", async () => {
    const { http } = client(
      ({ init }) =>
        new Promise<Response>((_, reject) => {
          const signal = init.signal;
          if (!signal) return reject(new Error("no signal given"));
          signal.addEventListener("abort", () => reject(signal.reason));
        }),
      { timeoutMs: 50 },
    );
    const error = await failure(http.request({ method: "POST", url, json: {} }));
    expect(error.errorClass).toBe("timeout");
    expect(error.code).toBe("outbound_timeout");
    expect(error.retryable).toBe(true);
    expect(error.message).toContain("did not answer within 50 ms");
    expect(http.exchanges[0]?.error).toBe("no answer within 50 ms");
    expect(http.exchanges[0]?.response).toBeUndefined();
  });

  it("treats an abort as a timeout", async () => {
    const { http } = client(() => Promise.reject(new DOMException("The operation was aborted.", "AbortError")));
    expect((await failure(http.request({ method: "GET", url }))).errorClass).toBe("timeout");
  });

  it("turns a network failure into unavailable", async () => {
    const { http } = client(() => Promise.reject(new TypeError("Network connection lost.")));
    const error = await failure(http.request({ method: "GET", url }));
    expect(error.errorClass).toBe("unavailable");
    expect(error.code).toBe("outbound_network");
    expect(error.retryable).toBe(true);
    expect(error.message).toBe("e-conomic could not be reached (Network connection lost.).");
    expect(error.cause).toBeInstanceOf(TypeError);
    expect(http.exchanges[0]?.error).toContain("Network connection lost.");
  });
});

describe("createHttpClient recording exchanges", () => {
  it("records request and response with credentials redacted", async () => {
    const { http, calls } = client(() => json({ ok: true }, 201, { "x-request-id": "r1" }));
    await http.request({
      method: "POST",
      url,
      json: { currency: "DKK" },
      headers: {
        Authorization: "Bearer secret-token",
        "X-AppSecretToken": "app-secret",
        "X-AgreementGrantToken": "grant-secret",
        "X-Shopify-Access-Token": "shpat_secret",
        "X-Trace": "keep-me",
      },
    });
    const [exchange] = http.exchanges;
    expect(exchange?.request).toEqual({
      method: "POST",
      url,
      headers: {
        accept: "application/json",
        "content-type": "application/json",
        Authorization: "[redacted]",
        "X-AppSecretToken": "[redacted]",
        "X-AgreementGrantToken": "[redacted]",
        "X-Shopify-Access-Token": "[redacted]",
        "X-Trace": "keep-me",
      },
      body: { currency: "DKK" },
    });
    expect(exchange?.response?.status).toBe(201);
    expect(exchange?.response?.body).toEqual({ ok: true });
    expect(exchange?.response?.headers["x-request-id"]).toBe("r1");
    expect(exchange?.latencyMs).toBeGreaterThanOrEqual(0);
    expect(JSON.stringify(http.exchanges)).not.toMatch(/secret-token|app-secret|grant-secret|shpat_secret/);
    // Redaction is for the record only: the vendor still receives the credentials.
    expect(calls[0]?.init.headers).toMatchObject({ Authorization: "Bearer secret-token", "X-AppSecretToken": "app-secret" });
  });

  it("redacts extra headers named in the options, whatever their case", async () => {
    const { http } = client(() => json({}), { redact: ["X-Api-Key"] });
    await http.request({ method: "GET", url, headers: { "x-api-key": "k-secret" } });
    expect(http.exchanges[0]?.request.headers["x-api-key"]).toBe("[redacted]");
  });

  it("records failed answers too, one exchange per request", async () => {
    let status = 200;
    const { http } = client(() => json({ message: "bad" }, status));
    await http.request({ method: "GET", url });
    status = 400;
    await failure(http.request({ method: "GET", url }));
    expect(http.exchanges.map((e) => e.response?.status)).toEqual([200, 400]);
    expect(http.exchanges[1]?.response?.body).toEqual({ message: "bad" });
  });

  it("cuts a long text body short in the record", async () => {
    const { http } = client(() => new Response("y".repeat(3000), { status: 200 }));
    await http.request({ method: "GET", url });
    expect(http.exchanges[0]?.response?.body).toBe(`${"y".repeat(2000)}…`);
  });
});

describe("parseRetryAfter", () => {
  const now = Date.parse("Wed, 21 Oct 2015 07:28:00 GMT");

  it("returns nothing for a missing or empty header", () => {
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter("")).toBeUndefined();
  });

  it("reads whole seconds", () => {
    expect(parseRetryAfter("7")).toBe(7);
    expect(parseRetryAfter("0")).toBe(0);
    expect(parseRetryAfter("3600")).toBe(3600);
  });

  it("rounds fractional seconds up", () => {
    expect(parseRetryAfter("1.2")).toBe(2);
    expect(parseRetryAfter("0.001")).toBe(1);
  });

  it("reads an HTTP date as the seconds until then", () => {
    expect(parseRetryAfter("Wed, 21 Oct 2015 07:29:00 GMT", now)).toBe(60);
    expect(parseRetryAfter("Wed, 21 Oct 2015 07:28:01 GMT", now + 500)).toBe(1);
  });

  it("gives zero for an HTTP date in the past", () => {
    expect(parseRetryAfter("Wed, 21 Oct 2015 07:00:00 GMT", now)).toBe(0);
  });

  it("returns nothing for text that is neither seconds nor a date", () => {
    expect(parseRetryAfter("soon", now)).toBeUndefined();
    expect(parseRetryAfter("Infinity", now)).toBeUndefined();
  });
});

describe("calls paced through a target's gate", () => {
  function pacer() {
    const log: string[] = [];
    return {
      log,
      pacer: {
        beforeCall: async () => {
          log.push("slot");
        },
        rateLimited: async (seconds: number | undefined) => {
          log.push(`429 hold ${seconds}`);
        },
      },
    };
  }

  it("asks for a slot before every call", async () => {
    const p = pacer();
    const { http } = client(() => json({ ok: true }), { pacer: p.pacer });
    await http.request({ method: "GET", url });
    await http.request({ method: "GET", url });
    expect(p.log).toEqual(["slot", "slot"]);
  });

  it("sends a 429'd request again in place after telling the gate, and records both exchanges", async () => {
    const p = pacer();
    let n = 0;
    const { http, calls } = client(
      () => (n++ === 0 ? json({ message: "slow down" }, 429, { "retry-after": "2" }) : json({ id: 7 })),
      {
        pacer: p.pacer,
      },
    );
    const response = await http.request({ method: "POST", url, json: { a: 1 } });
    expect(response.body).toEqual({ id: 7 });
    expect(calls).toHaveLength(2);
    expect(p.log).toEqual(["slot", "429 hold 2", "slot"]);
    expect(http.exchanges.map((e) => e.response?.status)).toEqual([429, 200]);
  });

  it("gives up after three 429s in place with a rate-limited error the step retries later", async () => {
    const p = pacer();
    const { http, calls } = client(() => json({}, 429, { "retry-after": "1" }), { pacer: p.pacer });
    const error = await failure(http.request({ method: "GET", url }));
    expect(error.errorClass).toBe("rate_limited");
    expect(calls).toHaveLength(4);
  });

  it("without a gate a 429 fails the call at once", async () => {
    const { http, calls } = client(() => json({}, 429));
    expect((await failure(http.request({ method: "GET", url }))).errorClass).toBe("rate_limited");
    expect(calls).toHaveLength(1);
  });
});
