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
    const { steps, fresh } = "steps" in schema ? schema : { steps: schema, fresh: undefined };
    const latest = steps.length;
    const known = this.storage
      .exec<{ n: number }>("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = '_schema'")
      .one().n;
    if (known === 0) {
      // A new object (most of them): the version table, its row and the whole schema in one script.
      this.ddl = script([
        "CREATE TABLE _schema (version INTEGER NOT NULL)",
        `INSERT INTO _schema (version) VALUES (${latest})`,
        ...(fresh === undefined ? steps : [fresh]),
      ]);
      return;
    }
    const row = this.storage.exec<{ version: number }>("SELECT version FROM _schema").toArray()[0];
    const current = row?.version ?? 0;
    if (current >= latest) return;
    const bump = row ? `UPDATE _schema SET version = ${latest}` : `INSERT INTO _schema (version) VALUES (${latest})`;
    this.ddl = script([...steps.slice(current), bump]);
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
    this.objectStorage.transactionSync(() => this.storage.exec(ddl));
    this.ddl = null;
  }
}

/** Statements (or scripts) as one script; the storage refuses a script that ends in an empty statement. */
function script(parts: readonly string[]): string {
  return parts.map((part) => part.trim().replace(/;+$/, "")).join(";\n");
}
