#!/usr/bin/env node
// npm run tenant:create -- --name "Shop name" --owner owner@example.com [--remote] [--base-url https://orderly.example.com]
// Creates a tenant and an invitation for its owner in D1 (the local database of `npm start` by
// default, the deployed one with --remote) and prints the invitation link; the owner chooses their
// password when accepting it. This is how the first owner of a fresh deployment gets in.
// --tenant <id> --owner <address> issues a fresh owner invitation for an existing tenant (its
// earlier unused ones from this command stop working); --revoke --tenant <id> only withdraws those.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { checkCreateTenantArgs, ownerInviteSql, readOwnerInviteReport, tenantCreationSql } from "./lib/tenant-sql.ts";
import { OFFLINE_ENV } from "./offline-env.mjs";

const USAGE = `Usage:
  npm run tenant:create -- --name "Shop name" --owner owner@example.com [--remote] [--base-url https://orderly.example.com]
  npm run tenant:create -- --tenant <id> --owner owner@example.com [--remote] [--base-url …]   (a fresh owner invitation)
  npm run tenant:create -- --revoke --tenant <id> [--remote]                                   (withdraw it, issue none)`;
const persistTo = process.env.ORDERLY_STATE_DIR ?? ".wrangler/state";

function fail(lines, usage = true) {
  console.error([...lines, ...(usage ? ["", USAGE] : [])].join("\n"));
  process.exit(1);
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      name: { type: "string" },
      owner: { type: "string" },
      tenant: { type: "string" },
      revoke: { type: "boolean", default: false },
      remote: { type: "boolean", default: false },
      "base-url": { type: "string" },
    },
    strict: true,
    allowPositionals: false,
  }));
} catch (error) {
  fail([`Nothing was changed: ${error instanceof Error ? error.message : String(error)}`]);
}

const checked = checkCreateTenantArgs({
  name: values.name,
  owner: values.owner,
  tenant: values.tenant,
  revoke: values.revoke,
  // Only given ones: --revoke refuses a --base-url, not the one wrangler.toml sets.
  baseUrl: values["base-url"] ?? (values.revoke ? undefined : configuredPublicUrl()),
  remote: values.remote,
});
if (!checked.ok) fail(["Nothing was changed:", ...checked.problems.map((p) => `  ${p}`)]);
const { args } = checked;
const database = args.remote ? "deployed" : "local";

/** PUBLIC_URL of wrangler.toml's [vars], when set: the address the deployment's own emails link to. */
function configuredPublicUrl() {
  if (!existsSync("wrangler.toml")) return undefined;
  const match = /^PUBLIC_URL\s*=\s*"([^"]*)"/m.exec(readFileSync("wrangler.toml", "utf8"));
  return match?.[1]?.trim() || undefined;
}

/** Runs the statements as one batch (one transaction) and returns wrangler's answers, one per statement. */
function execute(sql) {
  const where = args.remote ? ["--remote"] : ["--local", "--persist-to", persistTo];
  const run = spawnSync("npx", ["wrangler", "d1", "execute", "orderly", ...where, "--yes", "--json", "--command", sql], {
    encoding: "utf8",
    env: { ...process.env, ...OFFLINE_ENV, CI: "true" },
  });
  if (run.status !== 0) {
    const output = `${run.stdout ?? ""}${run.stderr ?? ""}${run.error ? String(run.error) : ""}`.trim();
    const hint = /no such table/i.test(output)
      ? `The database has no tables yet: apply the migrations first (wrangler d1 migrations apply orderly ${args.remote ? "--remote" : "--local"}; npm start does it locally).`
      : "Nothing was changed (the statements run as one batch).";
    fail([`wrangler d1 execute failed (exit ${run.status ?? "none"}):`, output, "", hint], false);
  }
  return run.stdout;
}

function printInvite(owner, invite, baseUrl) {
  const base = baseUrl ?? (args.remote ? undefined : `http://127.0.0.1:${process.env.PORT ?? 8787}`);
  const until = `${new Date(invite.expiresAt).toISOString().slice(0, 16).replace("T", " ")} UTC`;
  console.log(`Send this invitation link to ${owner}. It works once, until ${until}:

  ${base ?? "<your Orderly address>"}${invite.invitePath}
${base ? "" : "\n(No --base-url and no PUBLIC_URL in wrangler.toml: put the address people open Orderly at before the path.)\n"}
Opening it, they choose their name and password (with an account already, they sign in with theirs)
and become the shop's owner. The link is stored only as a hash: it is shown here once.`);
}

/** --tenant and --revoke: what the batch found and did, from its first statement's answer. */
function reportOf(stdout) {
  try {
    return readOwnerInviteReport(JSON.parse(stdout));
  } catch (error) {
    fail(
      [
        `The statements ran, but what they did could not be read: ${error instanceof Error ? error.message : String(error)}`,
        `wrangler answered: ${stdout.trim().slice(0, 2000)}`,
      ],
      false,
    );
  }
}

function withdrawnLine(withdrawn, tenantName) {
  if (withdrawn.length === 0) return `No unused owner invitation from this command was open for "${tenantName}".`;
  const what = withdrawn.length === 1 ? "invitation" : `${withdrawn.length} invitations`;
  return `Withdrew the unused owner ${what} for "${tenantName}" (${withdrawn.join(", ")}): ${withdrawn.length === 1 ? "its link no longer works" : "their links no longer work"}.`;
}

if (args.action === "create") {
  const created = await tenantCreationSql(args);
  execute(created.sql);
  console.log(`Created the shop "${args.name}" (${created.tenantId}) in the ${database} database.\n`);
  printInvite(args.owner, created, args.baseUrl);
  console.log(`\nIf it expires unused, issue a fresh one (this one then stops working):

  npm run tenant:create -- --tenant ${created.tenantId} --owner ${args.owner}${args.remote ? " --remote" : ""}`);
} else {
  const change = await ownerInviteSql(args);
  const report = reportOf(execute(change.sql));
  if (!report.found)
    fail(
      [
        `No shop has the id "${args.tenant}" in the ${database} database: nothing was changed.`,
        `tenant:create printed the id when it made the shop (ten_…)${args.remote ? "" : "; --remote for the deployed database"}.`,
      ],
      false,
    );
  console.log(withdrawnLine(report.withdrawn, report.tenantName));
  if (args.action === "reissue" && change.invite) {
    console.log(`Issued a fresh owner invitation for "${report.tenantName}" (${args.tenant}).\n`);
    printInvite(args.owner, change.invite, args.baseUrl);
  }
}
