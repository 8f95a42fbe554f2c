import { describe, expect, it } from "vitest";
import { stepReference, transferId } from "../../src/domain/reference";

const parts = ["conn-1", "1001", "flow-invoice", "paid", "0"] as const;

describe("transferId", () => {
  it("is the same for the same transfer", async () => {
    expect(await transferId(...parts)).toBe(await transferId(...parts));
  });

  it("is 32 lowercase hex characters", async () => {
    expect(await transferId(...parts)).toMatch(/^[0-9a-f]{32}$/);
  });

  it("is the first half of the SHA-256 of the length-prefixed parts", async () => {
    const encoded = parts.map((p) => `${p.length}:${p}`).join("|");
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(encoded)));
    const expected = Array.from(digest.slice(0, 16), (b) => b.toString(16).padStart(2, "0")).join("");
    expect(await transferId(...parts)).toBe(expected);
  });

  it("differs when any one part differs", async () => {
    const base = await transferId(...parts);
    for (let i = 0; i < parts.length; i++) {
      const changed = [...parts] as [string, string, string, string, string];
      changed[i] = `${changed[i]}x`;
      expect(await transferId(...changed), `part ${i}`).not.toBe(base);
    }
  });

  it("is not fooled by moving characters across a part boundary", async () => {
    expect(await transferId("ab", "c", "f", "paid", "0")).not.toBe(await transferId("a", "bc", "f", "paid", "0"));
    expect(await transferId("c", "1", "f", "refunded", "r1")).not.toBe(await transferId("c", "1", "f", "refundedr", "1"));
  });

  it("tells apart an empty part from a missing one", async () => {
    expect(await transferId("c", "", "f", "paid", "0")).not.toBe(await transferId("c", "f", "", "paid", "0"));
  });
});

describe("stepReference", () => {
  it("prefixes the transfer id and appends the step index", () => {
    expect(stepReference("0123456789abcdef0123456789abcdef", 2)).toBe("orderly-0123456789abcdef0123456789abcdef-2");
  });

  it("differs between the steps of one transfer", () => {
    expect(stepReference("abc", 0)).not.toBe(stepReference("abc", 1));
  });

  it("cannot be made to collide by separators inside ids", async () => {
    expect(await transferId("a\u0000b", "c", "f", "paid", "")).not.toBe(await transferId("a", "b\u0000c", "f", "paid", ""));
    expect(await transferId("a|1:b", "c", "f", "paid", "")).not.toBe(await transferId("a", "1:b|c", "f", "paid", ""));
  });
});
