/**
 * The step queue's retries are shared by every kind of retry a message gets, and the dead-letter
 * queue has no queue behind it: both must ride out an outage rather than drop what they hold.
 */
import { describe, expect, it } from "vitest";
import { DEAD_LETTER_QUEUE, deadLetterRetryDelay } from "../../src/worker/queue/consumer";
import wrangler from "../../wrangler.toml?raw";

/** The `[[queues.consumers]]` tables of wrangler.toml, as key → raw value. */
function consumers(toml: string): Array<Record<string, string>> {
  return toml
    .split(/^\[\[queues\.consumers\]\]\s*$/m)
    .slice(1)
    .map((block) => {
      const table: Record<string, string> = {};
      for (const line of block.split("\n")) {
        if (line.startsWith("[")) break;
        const match = /^(\w+)\s*=\s*(.+?)\s*$/.exec(line);
        if (match) table[match[1]!] = match[2]!.replace(/^"|"$/g, "");
      }
      return table;
    });
}

describe("the queue consumers' settings", () => {
  const byQueue = new Map(consumers(wrangler).map((c) => [c.queue, c]));

  it("the step queue allows 100 retries: a rate-limited step alone may take 32, and an outage of 20 minutes used up 25", () => {
    expect(byQueue.get("orderly-steps")).toMatchObject({ max_retries: "100", dead_letter_queue: DEAD_LETTER_QUEUE });
  });

  it("the dead-letter queue retries a letter D1 could not take for hours, with a growing delay, not 3 times", () => {
    expect(byQueue.get(DEAD_LETTER_QUEUE)).toMatchObject({ max_retries: "100" });
    const delays = Array.from({ length: 100 }, (_, i) => deadLetterRetryDelay(i + 1));
    expect(delays[0]).toBe(30);
    expect(Math.max(...delays)).toBeLessThanOrEqual(600);
    expect(delays.reduce((a, b) => a + b, 0)).toBeGreaterThan(6 * 3600);
  });
});
