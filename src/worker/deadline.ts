/** A promise bounded in time. */

/** The promise's outcome, or a failure saying `reason` after `ms` (the promise itself runs on). */
export async function withDeadline<T>(promise: Promise<T>, ms: number, reason: string): Promise<T> {
  let timer = 0;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${reason} (${ms / 1000} s)`)), Math.max(0, ms));
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}
