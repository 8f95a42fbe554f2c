/** An env whose D1 fails some statements, as D1 does when it is unavailable, for alert tests. */
import { env as testEnv } from "cloudflare:test";

/** The env with a D1 whose statements matching `failing` throw when prepared; the rest run as usual. */
export function withFailingD1(failing: RegExp, base: Env = testEnv): Env {
  const real = base.DB;
  const DB = new Proxy(real, {
    get(target, prop) {
      if (prop === "prepare")
        return (sql: string) => {
          if (failing.test(sql)) throw new Error(`D1_ERROR: Network connection lost (test, on: ${sql.slice(0, 40)})`);
          return target.prepare(sql);
        };
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { ...base, DB };
}
