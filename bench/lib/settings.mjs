// The benchmark's knobs: the full and quick profiles, the vars that compress the retry schedule,
// and the environment that keeps wrangler and Miniflare offline.
export const OFFLINE_ENV = {
  WRANGLER_SEND_METRICS: "false",
  WRANGLER_SEND_ERROR_REPORTS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
};
Object.assign(process.env, OFFLINE_ENV);

/** wrangler.toml vars overridden for the run: failures retry in seconds, not minutes. */
export const COMPRESSED_VARS = {
  RETRY_BASE_SECONDS: "1",
  RETRY_MAX_SECONDS: "10",
  // Above any queueing delay a saturated run builds up, so a slow step is not re-sent as lost.
  STEP_RESEND_AFTER_SECONDS: "120",
  OUTBOUND_TIMEOUT_MS: "10000",
  CIRCUIT_COOLDOWN_SECONDS: "5",
};

export const PROFILES = {
  full: {
    // The pair at 32 (the targets' level) runs three times; the targets take the median pair.
    ingest: { concurrencies: [1, 8, 32, 128], seconds: 10, warmupSeconds: 2, repeat: { concurrency: 32, pairs: 3 } },
    // settleSeconds: after each Orderly class, wait this long for the objects it touched to be
    // evicted (workerd: ~10 s idle), so their WAL checkpoint is charged to that class.
    // 3 s a class: the known-order class wakes every object the new-order class made, and this
    // machine's 20,000 open files (three per open object) are short of 5 s of them (7,300 objects
    // at 1,467 new orders/s: the class then measured SQLITE_CANTOPEN retries, 4 req/s).
    spans: { concurrency: 32, seconds: 3, settleSeconds: 12 },
    e2e: {
      // Orders per burst, per flow length; the drain waits at most drainSeconds for the last effect.
      burst: { 1: 400, 3: 200, 5: 120 },
      pacedSeconds: 10,
      drainSeconds: 120,
      lanes: 96,
      // One order per lane before each burst (its connections' first steps), reported apart.
      firstOrderPerLane: true,
      vendorBound: { orders: 12, steps: 3 },
      profileOrders: 80,
    },
    profileSeconds: 6,
  },
  quick: {
    ingest: { concurrencies: [1, 8, 32, 128], seconds: 1.5, warmupSeconds: 0 },
    spans: { concurrency: 32, seconds: 1.5, settleSeconds: 12 },
    e2e: {
      burst: { 1: 30, 3: 15, 5: 10 },
      pacedSeconds: 0,
      drainSeconds: 45,
      lanes: 24,
      firstOrderPerLane: false,
      vendorBound: null,
      profileOrders: 0,
    },
    profileSeconds: 0,
  },
};

/** Share of ingest deliveries that re-send an earlier delivery, and that carry a wrong signature. */
export const MIX = { redelivery: 0.1, badSignature: 0.01 };

/** What the mock accounting API waits before it answers each request. */
export const MOCK_DELAY_MS = 10;
