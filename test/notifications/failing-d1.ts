/** Envs whose D1 fails or records some statements, for alert tests. */
import { env as testEnv } from "cloudflare:test";

/** The env with a D1 whose `prepare` passes each statement's SQL to `onPrepare` first. */
function withD1Spy(base: Env, onPrepare: (sql: string) => void): Env {
  const real = base.DB;
  const DB = new Proxy(real, {
    get(target, prop) {
      if (prop === "prepare")
        return (sql: string) => {
          onPrepare(sql);
          return target.prepare(sql);
        };
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { ...base, DB };
}

/** The env with a D1 whose statements matching `failing` throw when prepared, as D1 does when it is unavailable. */
export function withFailingD1(failing: RegExp, base: Env = testEnv): Env {
  return withD1Spy(base, (sql) => {
    if (failing.test(sql)) throw new Error(`D1_ERROR: Network connection lost (test, on: ${sql.slice(0, 40)})`);
  });
}

/** The env with a D1 that records the SQL it is given, in `statements`. */
export function withRecordingD1(base: Env = testEnv): { env: Env; statements: string[] } {
  const statements: string[] = [];
  return { env: withD1Spy(base, (sql) => statements.push(sql)), statements };
}
