// wrangler.toml → Miniflare options for the bundled Worker, with the same bindings. wrangler's own
// reader parses the file; every top-level key must be one this module knows how to mirror, and
// every binding it declares must end up configured, so a binding added later fails the bench
// loudly instead of being silently missing.
import { readdirSync, readFileSync } from "node:fs";
import { extname, join, resolve } from "node:path";
import { experimental_readRawConfig, unstable_readConfig, unstable_splitSqlQuery } from "wrangler";

/** Keys of wrangler.toml this runner mirrors (bindings) or may ignore (no runtime effect locally). */
const MIRRORED = new Set(["durable_objects", "d1_databases", "r2_buckets", "queues", "vars", "secrets", "ratelimits"]);
const IGNORED = new Set(["name", "main", "compatibility_date", "compatibility_flags", "observability", "migrations", "triggers"]);

export function readWranglerConfig(root) {
  const path = join(root, "wrangler.toml");
  const raw = experimental_readRawConfig({ config: path }).rawConfig;
  const unknown = Object.keys(raw).filter((key) => !MIRRORED.has(key) && !IGNORED.has(key));
  if (unknown.length > 0) {
    throw new Error(
      `wrangler.toml declares ${unknown.join(", ")}, which bench/lib/wrangler-config.mjs does not mirror into Miniflare. ` +
        "Add it there so the benchmark runs with the same bindings as the Worker.",
    );
  }
  return { root, path, config: unstable_readConfig({ config: path }) };
}

/** Every binding wrangler.toml declares, as "kind:NAME". */
export function declaredBindings({ config }) {
  return [
    ...config.durable_objects.bindings.map((b) => `durable_object:${b.name}`),
    ...config.d1_databases.map((d) => `d1:${d.binding}`),
    ...config.r2_buckets.map((r) => `r2:${r.binding}`),
    ...(config.queues.producers ?? []).map((p) => `queue_producer:${p.binding}`),
    ...(config.queues.consumers ?? []).map((c) => `queue_consumer:${c.queue}`),
    ...Object.keys(config.vars).map((v) => `var:${v}`),
    ...(config.secrets?.required ?? []).map((s) => `secret:${s}`),
    ...(config.ratelimits ?? []).map((r) => `ratelimit:${r.name}`),
  ];
}

/** Bindings the Miniflare options actually configure, in the same "kind:NAME" form. */
function configuredBindings(options) {
  return [
    ...Object.keys(options.durableObjects ?? {}).map((n) => `durable_object:${n}`),
    ...Object.keys(options.d1Databases ?? {}).map((n) => `d1:${n}`),
    ...Object.keys(options.r2Buckets ?? {}).map((n) => `r2:${n}`),
    ...Object.keys(options.queueProducers ?? {}).map((n) => `queue_producer:${n}`),
    ...Object.keys(options.queueConsumers ?? {}).map((n) => `queue_consumer:${n}`),
    ...Object.keys(options.bindings ?? {}).flatMap((n) => [`var:${n}`, `secret:${n}`]),
    ...Object.keys(options.ratelimits ?? {}).map((n) => `ratelimit:${n}`),
  ];
}

/** Throws naming every binding of wrangler.toml the options leave out. */
export function verifyBindings(wrangler, options) {
  const configured = new Set(configuredBindings(options));
  const missing = declaredBindings(wrangler).filter((b) => !configured.has(b));
  if (missing.length > 0) throw new Error(`Miniflare options lack bindings declared in wrangler.toml: ${missing.join(", ")}`);
  return declaredBindings(wrangler);
}

/**
 * Worker options for the bundle in `bundleDir` (output of `wrangler deploy --dry-run`): the
 * bindings of wrangler.toml, its vars with `varOverrides` on top, and `secrets`; global fetch goes
 * to the Worker named `outboundWorker` when given.
 */
export function orderlyWorkerOptions(wrangler, { bundleDir, varOverrides = {}, secrets = {}, outboundWorker }) {
  const { config } = wrangler;
  const sqliteClasses = new Set(config.migrations.flatMap((m) => m.new_sqlite_classes ?? []));
  const options = {
    name: config.name,
    modulesRoot: bundleDir,
    modules: bundleModules(bundleDir),
    compatibilityDate: config.compatibility_date,
    compatibilityFlags: config.compatibility_flags,
    bindings: { ...config.vars, ...varOverrides, ...secrets },
    durableObjects: Object.fromEntries(
      config.durable_objects.bindings.map((b) => [
        b.name,
        { className: b.class_name, useSQLite: sqliteClasses.has(b.class_name) },
      ]),
    ),
    d1Databases: Object.fromEntries(config.d1_databases.map((d) => [d.binding, d.database_id])),
    r2Buckets: Object.fromEntries(config.r2_buckets.map((r) => [r.binding, r.bucket_name])),
    queueProducers: Object.fromEntries((config.queues.producers ?? []).map((p) => [p.binding, { queueName: p.queue }])),
    queueConsumers: Object.fromEntries(
      (config.queues.consumers ?? []).map((c) => [
        c.queue,
        {
          maxBatchSize: c.max_batch_size,
          maxBatchTimeout: c.max_batch_timeout,
          maxRetries: c.max_retries,
          deadLetterQueue: c.dead_letter_queue,
          retryDelay: c.retry_delay,
        },
      ]),
    ),
    ratelimits: Object.fromEntries(
      (config.ratelimits ?? []).map((r) => [r.name, { namespace_id: String(r.namespace_id), simple: r.simple }]),
    ),
    ...(outboundWorker ? { outboundService: outboundWorker } : {}),
  };
  for (const consumer of Object.values(options.queueConsumers)) {
    for (const key of Object.keys(consumer)) if (consumer[key] === undefined) delete consumer[key];
  }
  return options;
}

const MODULE_TYPES = { ".js": "ESModule", ".mjs": "ESModule", ".wasm": "CompiledWasm", ".txt": "Text", ".bin": "Data" };

/** Every module of wrangler's bundle, index.js first (wrangler emits ES modules throughout). */
function bundleModules(bundleDir) {
  const files = readdirSync(bundleDir, { recursive: true }).filter((f) => extname(f) in MODULE_TYPES);
  if (!files.includes("index.js"))
    throw new Error(`${bundleDir} has no index.js: is it the output of wrangler deploy --dry-run?`);
  return ["index.js", ...files.filter((f) => f !== "index.js")].map((f) => ({
    type: MODULE_TYPES[extname(f)],
    path: join(bundleDir, f),
  }));
}

/** The SQL statements of migrations/*.sql (each D1 database's migrations_dir), file by file in name order. */
export function d1Migrations(wrangler) {
  return wrangler.config.d1_databases.map((d) => {
    const dir = resolve(wrangler.root, d.migrations_dir ?? "migrations");
    const files = readdirSync(dir)
      .filter((f) => f.endsWith(".sql"))
      .sort();
    return {
      binding: d.binding,
      files: files.map((file) => ({ file, statements: unstable_splitSqlQuery(readFileSync(join(dir, file), "utf8")) })),
    };
  });
}
