// Small helpers shared by the chaos modules: sleeping, free loopback ports, bounded fetches.
import { createServer } from "node:net";

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A free TCP port on 127.0.0.1 (bound and released at once). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** fetch with a deadline; network errors and timeouts come back as { status: 0, error }. */
export async function fetchWithin(url, init = {}, timeoutMs = 30_000) {
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    return { status: res.status, text, headers: res.headers };
  } catch (error) {
    return { status: 0, text: "", error: String(error?.cause?.code ?? error?.name ?? error) };
  }
}

/** Runs `fn` over `items` with at most `limit` at once. */
export async function pool(items, limit, fn) {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i], i);
    }
  });
  await Promise.all(workers);
}

export function seconds(ms) {
  return Math.round(ms / 100) / 10;
}
