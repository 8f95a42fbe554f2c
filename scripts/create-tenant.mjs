#!/usr/bin/env node
// npm run tenant:create -- --name "Shop name" --owner owner@example.com [--remote] [--base-url https://orderly.example.com]
// Creates a tenant and an invitation for its owner in D1 (the local database of `npm start` by
// default, the deployed one with --remote) and prints the invitation link; the owner chooses their
// password when accepting it. This is how the first owner of a fresh deployment gets in.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { checkCreateTenantArgs, tenantCreationSql } from "./lib/tenant-sql.ts";
import { OFFLINE_ENV } from "./offline-env.mjs";

const USAGE =
  'Usage: npm run tenant:create -- --name "Shop name" --owner owner@example.com [--remote] [--base-url https://orderly.example.com]';
const persistTo = process.env.ORDERLY_STATE_DIR ?? ".wrangler/state";

function fail(lines) {
  console.error([...lines, "", USAGE].join("\n"));
  process.exit(1);
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      name: { type: "string" },
      owner: { type: "string" },
      remote: { type: "boolean", default: false },
      "base-url": { type: "string" },
    },
    strict: true,
    allowPositionals: false,
  }));
} catch (error) {
  fail([`Nothing was created: ${error instanceof Error ? error.message : String(error)}`]);
}

const checked = checkCreateTenantArgs({
  name: values.name,
  owner: values.owner,
  baseUrl: values["base-url"] ?? configuredPublicUrl(),
  remote: values.remote,
});
if (!checked.ok) fail(["Nothing was created:", ...checked.problems.map((p) => `  ${p}`)]);
const { args } = checked;

/** PUBLIC_URL of wrangler.toml's [vars], when set: the address the deployment's own emails link to. */
function configuredPublicUrl() {
  if (!existsSync("wrangler.toml")) return undefined;
  const match = /^PUBLIC_URL\s*=\s*"([^"]*)"/m.exec(readFileSync("wrangler.toml", "utf8"));
  return match?.[1]?.trim() || undefined;
}

const created = await tenantCreationSql(args);
const where = args.remote ? ["--remote"] : ["--local", "--persist-to", persistTo];
const run = spawnSync("npx", ["wrangler", "d1", "execute", "orderly", ...where, "--yes", "--command", created.sql], {
  encoding: "utf8",
  env: { ...process.env, ...OFFLINE_ENV, CI: "true" },
});
if (run.status !== 0) {
  const output = `${run.stdout ?? ""}${run.stderr ?? ""}${run.error ? String(run.error) : ""}`.trim();
  const hint = /no such table/i.test(output)
    ? `The database has no tables yet: apply the migrations first (wrangler d1 migrations apply orderly ${args.remote ? "--remote" : "--local"}; npm start does it locally).`
    : "Nothing was created (the statements run as one batch).";
  fail([`wrangler d1 execute failed (exit ${run.status ?? "none"}):`, output, "", hint]);
}

const base = args.baseUrl ?? (args.remote ? undefined : `http://127.0.0.1:${process.env.PORT ?? 8787}`);
const until = `${new Date(created.expiresAt).toISOString().slice(0, 16).replace("T", " ")} UTC`;
console.log(`Created the shop "${args.name}" (${created.tenantId}) in the ${args.remote ? "deployed" : "local"} database.

Send this invitation link to ${args.owner}. It works once, until ${until}:

  ${base ?? "<your Orderly address>"}${created.invitePath}
${base ? "" : "\n(No --base-url and no PUBLIC_URL in wrangler.toml: put the address people open Orderly at before the path.)\n"}
Opening it, they choose their name and password (with an account already, they sign in with theirs)
and become the shop's owner. The link is stored only as a hash: it is shown here once. If it expires
unused, run this again (the first shop then stays behind with no one in it).`);
