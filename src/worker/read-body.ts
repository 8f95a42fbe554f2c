/** Reads a request body up to a limit without buffering more than limit + one chunk. */
import { OrderlyError } from "../domain/errors";

export const MAX_WEBHOOK_BYTES = 10 * 1024 * 1024;

export async function readBodyLimited(request: Request, limit: number): Promise<Uint8Array> {
  const declared = Number(request.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
  if (!request.body) return new Uint8Array(0);
  // The runtime holds a body to its declared length, so a declared size within the limit can be
  // read in one piece (the chunk loop below costs several times more for a few kilobytes).
  if (Number.isFinite(declared) && request.headers.has("content-length")) {
    const body = new Uint8Array(await request.arrayBuffer());
    if (body.byteLength > limit) throw tooLarge(limit);
    return body;
  }
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  const body = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}

function tooLarge(limit: number): OrderlyError {
  return new OrderlyError(`The body is larger than ${limit / 1024 / 1024} MiB, the most Orderly accepts.`, {
    errorClass: "too_large",
    code: "body_too_large",
  });
}
