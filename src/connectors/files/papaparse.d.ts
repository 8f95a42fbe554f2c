/**
 * The part of papaparse Orderly uses. Its DefinitelyTyped package references Node's types, which
 * would change the Workers globals (setTimeout's return type) for the whole project.
 */
declare module "papaparse" {
  interface UnparseConfig {
    delimiter?: string;
    newline?: string;
    header?: boolean;
    quotes?: boolean;
    /** A cell matching it gets a ' in front, so spreadsheets do not run it as a formula. */
    escapeFormulae?: boolean | RegExp;
  }
  function unparse(data: { fields: string[]; data: unknown[][] }, config?: UnparseConfig): string;
  /** Used by the tests, to read back what unparse wrote. */
  function parse(
    input: string,
    config?: { delimiter?: string; header?: boolean; skipEmptyLines?: boolean },
  ): { data: Array<Record<string, string>>; errors: unknown[] };
  const Papa: { unparse: typeof unparse; parse: typeof parse };
  export default Papa;
}
