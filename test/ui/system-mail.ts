/**
 * The Worker with the operator's system mail sender configured (Resend, answered by a mock at its
 * official address), for UI tests of the emails that carry one-time links: password resets and
 * invitations go through it only. Tests reach it through a Browser given `fetcher`.
 */
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import worker from "../../src/worker/index";
import type { PostmarkMock } from "../mocks/postmark.mock";
import { createResendMock, installMailMocks } from "../mocks/resend.mock";
import type { Fetcher } from "./ui-client";

export const SYSTEM_MAIL_KEY = "re_system_key";
export const SYSTEM_MAIL_FROM = "Orderly <no-reply@orderly.example>";

/**
 * The Worker under the test env plus `vars`. With `settle` (the default) a request answers only
 * once its `waitUntil` work is done (a reset email is sent after the answer), so a test reads
 * what it sent right away.
 */
export function workerWith(
  vars: Record<string, string>,
  options: { settle?: boolean } = {},
): Fetcher & { settled: () => Promise<void> } {
  const withVars = { ...env, ...vars } as Env;
  const pending: Promise<void>[] = [];
  const fetcher = async (request: Request) => {
    const ctx = createExecutionContext();
    const res = await worker.fetch(request, withVars, ctx);
    const done = waitOnExecutionContext(ctx);
    if (options.settle ?? true) await done;
    else pending.push(done);
    return res;
  };
  /** Waits for the `waitUntil` work of every request made without `settle`. */
  const settled = async () => {
    await Promise.all(pending.splice(0));
  };
  return Object.assign(fetcher, { settled });
}

export const SYSTEM_MAIL_VARS = {
  SYSTEM_MAIL_PROVIDER: "resend",
  SYSTEM_MAIL_FROM,
  SYSTEM_MAIL_TOKEN: SYSTEM_MAIL_KEY,
};

/**
 * Installs the system sender's Resend mock (and `postmark`, a tenant's provider, if given) and
 * returns the Worker that sends through it, the mock, and the last link of a kind it was given
 * for an address.
 */
export function withSystemMailer(extra: { postmark?: PostmarkMock } = {}) {
  const resend = createResendMock({ apiKey: SYSTEM_MAIL_KEY });
  installMailMocks({ resend, ...extra });
  const fetcher = workerWith(SYSTEM_MAIL_VARS);
  /** Every link of a kind the system sender was given for an address, oldest first. */
  const linksTo = (email: string, path: "/invite" | "/reset-password"): string[] =>
    resend.state.emails
      .filter((m) => JSON.stringify(m.body.to).includes(email))
      .map((m) => new RegExp(`https://orderly\\.test(${path}/[A-Za-z0-9_-]+)`).exec(String(m.body.text))?.[1])
      .filter((link): link is string => Boolean(link));
  const linkTo = (email: string, path: "/invite" | "/reset-password"): string => {
    const link = linksTo(email, path).at(-1);
    if (!link) throw new Error(`the system sender was given no ${path} link for ${email}`);
    return link;
  };
  return { resend, fetcher, linkTo, linksTo };
}
