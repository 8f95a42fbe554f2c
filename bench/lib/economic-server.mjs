// The mock accounting API on 127.0.0.1, in its own thread so its work does not stall the load
// driver's clock. Each connection's baseUrl is /e/<n>: a separate strict e-conomic mock per
// connection, as separate agreements would be. Every request is answered after a fixed delay; each
// created draft invoice (the effect a step exists for) is recorded with its arrival time.
import { createServer } from "node:http";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";

const CUSTOMER = {
  customerNumber: 1,
  name: "Webshop customers",
  currency: "DKK",
  customerGroup: { customerGroupNumber: 1 },
  paymentTerms: { paymentTermsNumber: 1 },
  vatZone: { vatZoneNumber: 1 },
};

/** Starts the server thread; resolves once it listens. */
export function startEconomicServer({ mockModule, delayMs }) {
  const worker = new Worker(new URL(import.meta.url), { workerData: { mockModule, delayMs } });
  const waiting = new Map();
  let nextId = 0;
  worker.on("message", (message) => {
    waiting.get(message.id)?.(message.value);
    waiting.delete(message.id);
  });
  const ask = (type, args = {}) =>
    new Promise((resolve) => {
      const id = nextId++;
      waiting.set(id, resolve);
      worker.postMessage({ id, type, ...args });
    });
  return ask("ready").then((port) => ({
    port,
    baseUrl: (n) => `http://127.0.0.1:${port}/e/${n}`,
    /** Effects recorded since the last call: [instance, arrivalMs (timeOrigin-based), orderKey, stepIndex]. */
    takeEffects: () => ask("effects"),
    /** Requests per instance and the busiest second of any one instance. */
    stats: () => ask("stats"),
    reset: () => ask("reset"),
    stop: () => worker.terminate(),
  }));
}

async function serve({ mockModule, delayMs }) {
  const { createEconomicMock } = await import(mockModule);
  const mocks = new Map();
  let effects = [];
  let requests = 0;
  let byInstance = new Map();
  let busySince = performance.eventLoopUtilization();
  const mockFor = (n) => {
    let mock = mocks.get(n);
    if (!mock) {
      mock = createEconomicMock({ customers: [CUSTOMER] });
      mocks.set(n, mock);
    }
    return mock;
  };
  const count = (n, now) => {
    const second = Math.floor(now / 1000);
    const entry = byInstance.get(n) ?? { requests: 0, second, inSecond: 0, busiestSecond: 0 };
    entry.requests++;
    if (entry.second === second) entry.inSecond++;
    else Object.assign(entry, { second, inSecond: 1 });
    entry.busiestSecond = Math.max(entry.busiestSecond, entry.inSecond);
    byInstance.set(n, entry);
  };

  const server = createServer(async (req, res) => {
    const arrived = performance.timeOrigin + performance.now();
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const match = /^\/e\/(\d+)(\/.*)?$/.exec(req.url ?? "");
    let status = 404;
    let headers = { "content-type": "application/json" };
    let body = Buffer.from('{"message":"no such mock"}');
    if (match) {
      const n = Number(match[1]);
      requests++;
      count(n, arrived);
      const text = chunks.length ? Buffer.concat(chunks).toString("utf8") : undefined;
      const request = new Request(`http://economic.mock${match[2] ?? "/"}`, {
        method: req.method,
        headers: req.headers,
        body: text,
      });
      const response = await mockFor(n).handle(request);
      status = response.status;
      headers = Object.fromEntries(response.headers);
      body = Buffer.from(await response.arrayBuffer());
      if (req.method === "POST" && status === 201 && match[2] === "/invoices/drafts") {
        const draft = JSON.parse(text);
        const key = /(\d{6,})/.exec(draft.recipient?.name ?? "")?.[1] ?? "";
        const step = /-(\d+)$/.exec(draft.references?.other ?? "")?.[1] ?? "";
        effects.push([n, arrived, key, Number(step)]);
      }
    }
    setTimeout(() => {
      res.writeHead(status, headers);
      res.end(body);
    }, delayMs);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));

  parentPort.on("message", ({ id, type }) => {
    let value;
    if (type === "ready") value = server.address().port;
    if (type === "effects") [value, effects] = [effects, []];
    if (type === "stats") {
      const instances = [...byInstance.values()];
      value = {
        requests,
        instances: instances.length,
        busiestSecondPerInstance: Math.max(0, ...instances.map((i) => i.busiestSecond)),
        // The mock thread's busy time since the last reset (its event loop's active time).
        busyMs: Math.round(performance.eventLoopUtilization(busySince).active),
      };
    }
    if (type === "reset") {
      [requests, byInstance, busySince] = [0, new Map(), performance.eventLoopUtilization()];
      value = true;
    }
    parentPort.postMessage({ id, value });
  });
}

if (!isMainThread && workerData?.mockModule) await serve(workerData);
