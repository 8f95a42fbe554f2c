/**
 * The PDF of a booked invoice: `GET /invoices/booked/{n}/pdf` (the booked invoice's `pdf.download`
 * link) answers with the document's bytes. The shared HTTP client reads bodies as text, which would
 * corrupt a PDF, so this one call fetches the bytes itself, with the same token headers, a deadline
 * and the same error classes, and records a snapshot of the exchange without the bytes. In a queue
 * step it waits for its slot at the connection's gate like every other call, and is not started
 * when it could end after the step's lease (`beforeUnpacedCall`).
 */
import { OrderlyError } from "../../domain/errors";
import { MAX_ATTACHMENT_BYTES } from "../../mail/mail.types";
import { beforeUnpacedCall } from "../../mail/send-mail";
import { parseRetryAfter, type RecordedExchange } from "../http";
import type { EconomicContext } from "./economic.api";

/**
 * Largest PDF accepted: Orderly's own limit on an email's attachments (raw bytes). Whether it fits
 * the step's mail provider, counted after base64 (Postmark: 10 MB), is checked when it is sent.
 */
const MAX_PDF_BYTES = MAX_ATTACHMENT_BYTES;

export async function bookedInvoicePdf(
  ctx: EconomicContext & { env: Env },
  bookedInvoiceNumber: number,
  requestedTimeoutMs: number,
): Promise<Uint8Array> {
  const { credentials, settings } = ctx.connection;
  const timeoutMs = await beforeUnpacedCall(ctx.env, requestedTimeoutMs, true);
  const url = `${settings.baseUrl.replace(/\/+$/, "")}/invoices/booked/${bookedInvoiceNumber}/pdf`;
  const exchange: RecordedExchange = {
    request: {
      method: "GET",
      url,
      headers: { accept: "application/pdf", "x-appsecrettoken": "[redacted]", "x-agreementgranttoken": "[redacted]" },
    },
    latencyMs: 0,
  };
  ctx.http.exchanges.push(exchange);
  const started = Date.now();
  let response: Response;
  try {
    response = await fetch(url, {
      headers: {
        accept: "application/pdf",
        "X-AppSecretToken": credentials.appSecretToken,
        "X-AgreementGrantToken": credentials.agreementGrantToken,
      },
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    exchange.latencyMs = Date.now() - started;
    exchange.error = String(error);
    const timedOut = error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
    throw new OrderlyError(
      `e-conomic ${timedOut ? `did not answer within ${timeoutMs} ms` : "could not be reached"} for the invoice PDF.`,
      {
        errorClass: timedOut ? "timeout" : "unavailable",
        code: timedOut ? "outbound_timeout" : "outbound_network",
        cause: error,
      },
    );
  }
  const bytes = new Uint8Array(await response.arrayBuffer());
  exchange.latencyMs = Date.now() - started;
  const contentType = response.headers.get("content-type") ?? "";
  exchange.response = {
    status: response.status,
    headers: Object.fromEntries(response.headers),
    body: response.ok
      ? `<${bytes.byteLength} bytes of ${contentType || "unknown type"}>`
      : new TextDecoder().decode(bytes.slice(0, 2000)),
  };
  if (!response.ok) throw classify(response, bookedInvoiceNumber);
  const magic = new TextDecoder().decode(bytes.slice(0, 5));
  if (magic !== "%PDF-")
    throw new OrderlyError(`e-conomic answered the PDF of invoice ${bookedInvoiceNumber} with something that is not a PDF.`, {
      errorClass: "unavailable",
      code: "economic_pdf_invalid",
    });
  if (bytes.byteLength > MAX_PDF_BYTES)
    throw new OrderlyError(`The PDF of invoice ${bookedInvoiceNumber} is larger than ${MAX_PDF_BYTES / 1048576} MiB.`, {
      errorClass: "too_large",
      code: "economic_pdf_too_large",
    });
  return bytes;
}

function classify(response: Response, invoice: number): OrderlyError {
  const status = response.status;
  const said = `e-conomic answered ${status} for the PDF of invoice ${invoice}`;
  if (status === 429) {
    const retryAfterSeconds = parseRetryAfter(response.headers.get("retry-after"));
    return new OrderlyError(`${said} (rate limited)`, {
      errorClass: "rate_limited",
      code: "outbound_rate_limited",
      ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
    });
  }
  if (status >= 500 || status === 408) return new OrderlyError(said, { errorClass: "unavailable", code: "outbound_unavailable" });
  if (status === 401 || status === 403)
    return new OrderlyError(`${said}. Check the connection's credentials.`, { errorClass: "auth", code: "outbound_auth" });
  if (status === 404)
    return new OrderlyError(`${said}: no such booked invoice.`, { errorClass: "not_found", code: "outbound_not_found" });
  return new OrderlyError(said, { errorClass: "validation", code: "outbound_rejected" });
}
