// Fails when src/db/schema.ts differs from what migrations/ and drizzle-kit's snapshots in
// migrations/meta describe: a schema change without its migration, or a hand-written migration
// without its snapshot, would make the next `npm run db:generate` emit it again.
import { spawnSync } from "node:child_process";
import { cpSync, rmSync } from "node:fs";

// drizzle-kit reads the folder relative to the working directory, so the copy stays inside it.
const out = "node_modules/.cache/orderly-migrations-check";
rmSync(out, { recursive: true, force: true });
try {
  cpSync("migrations", out, { recursive: true });
  const run = spawnSync("npx", ["drizzle-kit", "generate", "--dialect", "sqlite", "--schema", "src/db/schema.ts", "--out", out], {
    encoding: "utf8",
  });
  const log = `${run.stdout}${run.stderr}`;
  // drizzle-kit exits 0 even when it fails, so its words are what is checked.
  if (run.status !== 0 || !log.includes("No schema changes")) {
    console.error(log);
    console.error(
      "migrations/ does not match src/db/schema.ts: run `npm run db:generate`, then commit the new migration with its snapshot in migrations/meta.",
    );
    process.exit(1);
  }
  console.log("migrations/ match src/db/schema.ts");
} finally {
  rmSync(out, { recursive: true, force: true });
}
