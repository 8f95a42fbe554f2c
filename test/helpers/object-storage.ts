/** Empties an object's storage of every table Orderly made, as if it had never run (the runtime's own stay). */
export function dropAll(sql: SqlStorage): void {
  const tables = sql
    .exec<{ name: string }>(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '_cf_%' AND name != 'sqlite_sequence'",
    )
    .toArray()
    .map((r) => r.name);
  for (const name of tables) sql.exec(`DROP TABLE "${name}"`);
}
