/**
 * The one way a Durable Object talks to its SQLite storage: tagged parameters, typed rows, and a
 * schema version so DDL runs only when the stored schema is behind the code.
 */

export type SqlValue = string | number | null | ArrayBuffer;

export class ObjectSql {
  constructor(private readonly storage: SqlStorage) {}

  all<T>(query: string, ...params: SqlValue[]): T[] {
    return this.storage.exec(query, ...params).toArray() as T[];
  }

  one<T>(query: string, ...params: SqlValue[]): T | undefined {
    return this.all<T>(query, ...params)[0];
  }

  run(query: string, ...params: SqlValue[]): number {
    return this.storage.exec(query, ...params).rowsWritten;
  }

  /** Applies the migrations whose index is at or past the stored version, in order. */
  migrate(migrations: readonly string[]): void {
    this.storage.exec("CREATE TABLE IF NOT EXISTS _schema (version INTEGER NOT NULL)");
    const row = this.one<{ version: number }>("SELECT version FROM _schema");
    const current = row?.version ?? 0;
    if (current >= migrations.length) return;
    // One script: a new object (most of them) pays for a single exec, not one per migration.
    const bump = row
      ? `UPDATE _schema SET version = ${migrations.length};`
      : `INSERT INTO _schema (version) VALUES (${migrations.length});`;
    this.storage.exec(`${migrations.slice(current).join(";\n")};\n${bump}`);
  }
}
