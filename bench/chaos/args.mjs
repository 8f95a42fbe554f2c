// Command line and the two profiles. `small` is what `npm test` runs (a few hundred orders, a few
// minutes); `full` is `npm run chaos` (about 30 minutes on 2 cores, as measured). Any figure can be
// changed with --set, e.g. --set t1.orders=50 --set t7.events=300.

export const PROFILES = {
  small: {
    scenarios: ["t1", "t2", "t3", "t4", "t5", "t7", "t8"],
    settleBoundMs: 180_000,
    t1: { orders: 30, shops: 6, rate: 5 },
    t2: { orders: 20, shops: 4, rate: 5, kills: 3, probe: 0 },
    t3: { orders: 16, shops: 4, rate: 6, events: 6 },
    t4: { orders: 50, shops: 4, rate: 5, poison: 0.01 },
    t5: { forged: 100, replays: 100, valid: 10 },
    t7: { events: 25, limit: 10 },
    t8: { sizes: [1024, 100 * 1024, 1024 * 1024, 5 * 1024 * 1024], tooLarge: 11 * 1024 * 1024 },
  },
  full: {
    scenarios: ["t1", "t2", "t3", "t4", "t5", "t7", "t8"],
    settleBoundMs: 600_000,
    t1: { orders: 2000, shops: 24, rate: 8 },
    t2: { orders: 100, shops: 16, rate: 5, kills: 3, probe: 1 },
    t3: { orders: 100, shops: 8, rate: 6, events: 6 },
    t4: { orders: 300, shops: 8, rate: 5, poison: 0.01 },
    t5: { forged: 1000, replays: 1000, valid: 20 },
    t7: { events: 150, limit: 10 },
    t8: { sizes: [1024, 100 * 1024, 1024 * 1024, 5 * 1024 * 1024], tooLarge: 11 * 1024 * 1024 },
  },
};

export function parseArgs(argv) {
  const options = { profile: "full", overrides: {}, only: null, seed: null, keep: false, source: null };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === "--small") options.profile = "small";
    else if (arg === "--full") options.profile = "full";
    else if (arg === "--seed") options.seed = Number(value());
    else if (arg === "--only") options.only = value().split(",");
    else if (arg === "--keep") options.keep = true;
    else if (arg === "--source") options.source = value();
    else if (arg === "--set") {
      const [path, raw] = value().split("=");
      const [scenario, key] = path.split(".");
      const parsed = raw.includes(",") ? raw.split(",").map(Number) : Number.isNaN(Number(raw)) ? raw : Number(raw);
      if (key === undefined) options.overrides[scenario] = parsed;
      else
        options.overrides[scenario] = { ...PROFILES[options.profile][scenario], ...options.overrides[scenario], [key]: parsed };
    } else if (arg === "--help") {
      console.log("usage: run.mjs [--small|--full] [--seed N] [--only t1,t3] [--set t1.orders=100] [--keep] [--source DIR]");
      process.exit(0);
    } else throw new Error(`unknown argument ${arg}`);
  }
  if (options.seed !== null && !Number.isInteger(options.seed)) throw new Error("--seed takes an integer");
  return options;
}
