/**
 * Limits on sign-in and password-reset attempts, through Workers Rate Limiting bindings
 * (wrangler.toml `[[ratelimits]]`): per address, and per client IP where Cloudflare names it. A
 * password guesser otherwise had every address's password to try without end (each guess costing
 * the Worker a 100,000-round PBKDF2), and anyone could flood an address with reset emails from the
 * operator's sender. The binding counts per Cloudflare location and is approximate by design: it
 * slows guessing down, it does not lock an account (which would let anyone lock anyone out).
 */

/** Whether this attempt is within the limits; each key named is counted once. */
export async function attemptAllowed(limiter: RateLimit | undefined, keys: readonly string[]): Promise<boolean> {
  // A deployment without the binding (or a test env built without it) is not limited.
  if (!limiter) return true;
  for (const key of keys) {
    try {
      if (!(await limiter.limit({ key })).success) return false;
    } catch (error) {
      // An outage of the limiter must not lock everyone out of their account.
      console.warn("sign-in attempt limit could not be read; the attempt is let through", { error: String(error) });
      return true;
    }
  }
  return true;
}

/** The keys an attempt is counted under: the address, and the client's IP when Cloudflare gives it. */
export function attemptKeys(kind: "sign-in" | "reset", email: string, headers: Headers): string[] {
  const ip = headers.get("cf-connecting-ip")?.trim();
  return [`${kind}:email:${email}`, ...(ip ? [`${kind}:ip:${ip}`] : [])];
}
