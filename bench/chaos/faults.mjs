// The seeded fault injector. A decision is a pure function of (seed, request identity, how many
// times that identity was seen before), not of arrival order, so the faults a run injects do not
// depend on how concurrent orders interleave, and a failing seed replays the same faults.

/** 32-bit FNV-1a, then a murmur3 finaliser: a well-mixed hash of a string. */
export function hash32(text) {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A uniform number in [0, 1) for a key under a seed. */
export function uniform(seed, key) {
  return hash32(`${seed}|${key}`) / 2 ** 32;
}

/** mulberry32: the driver's own PRNG (shuffles, delays, kill points), seeded from --seed. */
export function prng(seed) {
  let a = hash32(String(seed));
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

export function shuffle(items, random) {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

export const NO_FAULTS = { error500: 0, timeout: 0, timeoutAfterEffect: 0, rateLimited: 0 };

/**
 * Decides per request: "500", "timeout" (no effect, no answer in time), "timeout-after-effect"
 * (the write is applied, the answer comes too late) or "429"; null lets it through.
 */
export function createFaultInjector(seed, rates = NO_FAULTS) {
  const seen = new Map();
  const counts = { 500: 0, timeout: 0, "timeout-after-effect": 0, 429: 0 };
  let current = { ...NO_FAULTS, ...rates };
  return {
    counts,
    get rates() {
      return current;
    },
    set(next) {
      current = { ...NO_FAULTS, ...next };
    },
    decide(identity, isWrite) {
      const n = seen.get(identity) ?? 0;
      seen.set(identity, n + 1);
      let u = uniform(seed, `${identity}#${n}`);
      const pick = (p, fault) => {
        if (u < p) return fault;
        u -= p;
        return null;
      };
      const half = current.timeout / 2;
      const fault =
        pick(current.error500, "500") ??
        pick(current.rateLimited, "429") ??
        pick(isWrite ? half : current.timeout, "timeout") ??
        (isWrite ? pick(half, "timeout-after-effect") : null);
      if (fault) counts[fault]++;
      return fault;
    },
  };
}
