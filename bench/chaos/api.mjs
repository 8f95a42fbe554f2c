// Orderly's JSON API as the chaos driver uses it: set up shops, e-conomic connections and flows,
// read the transfer log, wait until every transfer is final, and bulk-retry.
import { fetchWithin, sleep } from "./util.mjs";

export const FINAL = new Set(["completed", "failed"]);

export function apiClient(baseUrl, token) {
  async function call(path, { method, body } = {}) {
    const res = await fetchWithin(
      `${baseUrl}/api/v1${path}`,
      {
        method: method ?? (body === undefined ? "GET" : "POST"),
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      },
      60_000,
    );
    let json = null;
    try {
      json = res.text ? JSON.parse(res.text) : null;
    } catch {
      json = res.text;
    }
    return { status: res.status, body: json };
  }

  async function must(path, init, expected) {
    const res = await call(path, init);
    if (!expected.includes(res.status))
      throw new Error(`${init?.method ?? "GET"} ${path} → ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }

  return {
    call,
    shop: (name, webhookSecret) => must("/connections", { body: { connector: "shopify", name, webhookSecret } }, [201]),
    economic: (name, baseUrlOfMock) =>
      must(
        "/connections",
        {
          body: {
            connector: "economic",
            name,
            settings: { baseUrl: baseUrlOfMock },
            credentials: { appSecretToken: "app-ok", agreementGrantToken: "grant-ok" },
          },
        },
        [201],
      ),
    ledger: (name) => must("/connections", { body: { connector: "sandbox-ledger", name } }, [201]),
    flow: (source, stage, steps) => must("/flows", { body: { name: `${stage} (chaos)`, source, stage, steps } }, [201]),
    /** Every transfer of the tenant (newest first), page by page. */
    async transfers(query = "") {
      const all = [];
      let cursor = null;
      do {
        const page = await must(
          `/transfers?limit=200${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
          {},
          [200],
        );
        all.push(...page.transfers);
        cursor = page.nextCursor;
      } while (cursor);
      return all;
    },
    transfer: (id) => must(`/transfers/${id}`, {}, [200]),
    ledgerInvoices: async () => {
      const res = await must("/ledger/invoices?limit=200", {}, [200]);
      return res.invoices ?? res;
    },
    bulkRetry: (body) => must("/transfers/retry", { body }, [202]),
    patchFlow: (id, body) => must(`/flows/${id}`, { method: "PATCH", body }, [200]),
  };
}

/**
 * Polls the transfer log until at least `expected` transfers exist and all are final, or the
 * bound passes. `tick` runs between polls (e.g. the cron sweeper). Returns the last list.
 */
export async function waitUntilFinal(api, expected, { boundMs, pollMs = 2000, tick, onProgress } = {}) {
  const started = Date.now();
  let list = [];
  let lastReport = 0;
  while (Date.now() - started < boundMs) {
    list = await api.transfers();
    const open = list.filter((t) => !FINAL.has(t.status)).length;
    if (list.length >= expected && open === 0) return { list, settled: true, ms: Date.now() - started };
    if (onProgress && Date.now() - lastReport > 15_000) {
      lastReport = Date.now();
      onProgress({ transfers: list.length, open, expected });
    }
    if (tick) await tick();
    await sleep(pollMs);
  }
  return { list, settled: false, ms: Date.now() - started };
}
