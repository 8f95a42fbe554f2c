/**
 * The one way a Durable Object talks to its SQLite storage: tagged parameters, typed rows, and a
 * schema version so DDL runs only when the stored schema is behind the code.
 */

export type SqlValue = string | number | null | ArrayBuffer;

/**
 * An object's schema: `steps[i]` takes a stored schema from version i to i + 1 (append, never edit
 * a shipped step). `fresh`, when given, creates the schema at version `steps.length` in one script
 * for a new object; it must leave exactly the schema the steps leave (test/unit/object-schema.test.ts
 * compares the two), so objects created before it still migrate step by step to the same tables.
 */
export interface SchemaMigrations {
  steps: readonly string[];
  fresh?: string;
  /**
   * Where a new object keeps its schema version: a row (`key`, version) of a key-value table its
   * schema has (`key TEXT PRIMARY KEY, value TEXT`), instead of a `_schema` table of its own. Every
   * schema object created is billed as rows written (two for each CREATE), once per object, and
   * order objects are made one per order. Objects made before keep their `_schema` table.
   */
  versionIn?: { table: string; key: string };
}

export class ObjectSql {
  /**
   * Schema changes decided by migrate() and not run yet. They run just before the object's first
   * statement, in the same synchronous step and so in the same implicit transaction as that
   * request's own writes: a new object commits its tables and its first rows together (one WAL
   * commit and one fsync, sqlite_master and each new table's page written once), instead of
   * committing the constructor's DDL on its own first.
   */
  private ddl: string | null = null;

  private readonly storage: SqlStorage;

  constructor(private readonly objectStorage: DurableObjectStorage) {
    this.storage = objectStorage.sql;
  }

  all<T>(query: string, ...params: SqlValue[]): T[] {
    return this.exec(query, params).toArray() as T[];
  }

  one<T>(query: string, ...params: SqlValue[]): T | undefined {
    return this.all<T>(query, ...params)[0];
  }

  run(query: string, ...params: SqlValue[]): number {
    return this.exec(query, params).rowsWritten;
  }

  /**
   * Runs `write`'s statements all or none. A request's statements commit together anyway, but
   * only on success: a statement that throws leaves the ones before it to be committed, which is
   * how a delivery could be marked seen without being stored. A schema script still pending runs
   * first, outside, so a rollback cannot take the tables with it.
   */
  transaction<T>(write: () => T): T {
    this.flush();
    return this.objectStorage.transactionSync(write);
  }

  /**
   * Brings the stored schema to the latest version: a new object by one script, an older one by its
   * missing steps. Only reads here; the script runs with the first statement (see `ddl`).
   */
  migrate(schema: SchemaMigrations | readonly string[]): void {
    this.flush();
    const { steps, fresh, versionIn } = "steps" in schema ? schema : { steps: schema, fresh: undefined, versionIn: undefined };
    const latest = steps.length;
    const stored = this.storedVersion(versionIn);
    if (stored === null) {
      // A new object (most of them): the whole schema and its version in one script.
      this.ddl = script([
        ...(versionIn
          ? []
          : ["CREATE TABLE _schema (version INTEGER NOT NULL)", `INSERT INTO _schema (version) VALUES (${latest})`]),
        ...(fresh === undefined ? steps : [fresh]),
        ...(versionIn ? [`INSERT INTO "${versionIn.table}" (key, value) VALUES ('${versionIn.key}', '${latest}')`] : []),
      ]);
      return;
    }
    if (stored.version >= latest) return;
    this.ddl = script([...steps.slice(stored.version), stored.bump(latest)]);
  }

  /**
   * The stored schema's version and how to record a newer one; null for a new object. Objects made
   * before `versionIn` (or without it) keep it in `_schema`.
   */
  private storedVersion(versionIn: SchemaMigrations["versionIn"]): { version: number; bump: (to: number) => string } | null {
    const tables = new Set(
      this.storage
        .exec<{ name: string }>(
          "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('_schema', ?)",
          versionIn?.table ?? "_schema",
        )
        .toArray()
        .map((r) => r.name),
    );
    if (tables.has("_schema")) {
      const row = this.storage.exec<{ version: number }>("SELECT version FROM _schema").toArray()[0];
      return {
        version: row?.version ?? 0,
        bump: (to) => (row ? `UPDATE _schema SET version = ${to}` : `INSERT INTO _schema (version) VALUES (${to})`),
      };
    }
    if (!versionIn || !tables.has(versionIn.table)) return null;
    const value = this.storage
      .exec<{ value: string }>(`SELECT value FROM "${versionIn.table}" WHERE key = ?`, versionIn.key)
      .toArray()[0]?.value;
    // Its table exists only with the row (both come with the new object's one script).
    return {
      version: Number(value ?? 0),
      bump: (to) => `UPDATE "${versionIn.table}" SET value = '${to}' WHERE key = '${versionIn.key}'`,
    };
  }

  /** The stored schema's version (0 for an object with none yet). */
  version(schema: SchemaMigrations): number {
    this.flush();
    return this.storedVersion(schema.versionIn)?.version ?? 0;
  }

  private exec(query: string, params: SqlValue[]): SqlStorageCursor<Record<string, SqlStorageValue>> {
    this.flush();
    return this.storage.exec(query, ...params);
  }

  private flush(): void {
    if (this.ddl === null) return;
    const ddl = this.ddl;
    // All or none: a rebuild that stopped after its CREATE (a copy over the storage limit) would
    // leave a table that makes every later try of the same step fail, and the object with it.
    // One statement at a time: a script's cursor reports only its last statement's rows written
    // (each CREATE is two), so the cost meter would not see what a new object's schema is billed.
    this.objectStorage.transactionSync(() => {
      for (const statement of statementsOf(ddl)) this.storage.exec(statement);
    });
    this.ddl = null;
  }
}

/** Statements (or scripts) as one script; the storage refuses a script that ends in an empty statement. */
function script(parts: readonly string[]): string {
  return parts.map((part) => part.trim().replace(/;+$/, "")).join(";\n");
}

/**
 * A script's statements, split at each `;` that is outside a quoted string and a `--` comment (the
 * schema's comments have semicolons); statements that are only whitespace or comments are dropped.
 * Not handled, as no schema has them: block comments and trigger bodies (`BEGIN … END`), whose
 * inner `;` would split the statement (test/unit/object-schema.test.ts would then fail).
 */
export function statementsOf(script: string): string[] {
  const statements: string[] = [];
  let start = 0;
  let quote: string | null = null;
  let comment = false;
  for (let i = 0; i < script.length; i++) {
    const char = script[i];
    if (comment) comment = char !== "\n";
    else if (quote) quote = char === quote ? null : quote;
    else if (char === "'" || char === '"') quote = char;
    else if (char === "-" && script[i + 1] === "-") comment = true;
    else if (char === ";") {
      statements.push(script.slice(start, i));
      start = i + 1;
    }
  }
  statements.push(script.slice(start));
  return statements.filter((s) => s.replace(/--[^\n]*/g, "").trim() !== "");
}
