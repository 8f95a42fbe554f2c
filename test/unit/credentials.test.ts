import { describe, expect, it } from "vitest";
import { fromBase64, toBase64 } from "../../src/connectors/signatures";
import { decryptJson, decryptSecret, encryptJson, encryptSecret } from "../../src/db/credentials";
import { OrderlyError } from "../../src/domain/errors";

function newKey(): string {
  return toBase64(crypto.getRandomValues(new Uint8Array(32)));
}

function envOf(key: string): { CREDENTIALS_KEY: string } {
  return { CREDENTIALS_KEY: key };
}

/** Flips one bit in the given part (1 = IV, 2 = ciphertext) of a sealed value. */
function tamper(sealed: string, part: 1 | 2): string {
  const parts = sealed.split(".");
  const raw = fromBase64(parts[part] ?? "");
  if (!raw) throw new Error("sealed value has no such part");
  raw[0] = (raw[0] ?? 0) ^ 1;
  parts[part] = toBase64(raw);
  return parts.join(".");
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected the promise to reject");
}

describe("encryptSecret and decryptSecret", () => {
  it("round-trips a secret under a 32-byte base64 key", async () => {
    const env = envOf(newKey());
    const sealed = await encryptSecret(env, "shpat_0123456789abcdef");
    expect(await decryptSecret(env, sealed)).toBe("shpat_0123456789abcdef");
  });

  it("round-trips empty and non-ASCII text", async () => {
    const env = envOf(newKey());
    expect(await decryptSecret(env, await encryptSecret(env, ""))).toBe("");
    expect(await decryptSecret(env, await encryptSecret(env, "blåbær 🔑"))).toBe("blåbær 🔑");
  });

  it("never stores the plaintext", async () => {
    const sealed = await encryptSecret(envOf(newKey()), "shpat_visible");
    expect(sealed).not.toContain("shpat_visible");
    expect(sealed).not.toContain(toBase64(new TextEncoder().encode("shpat_visible")));
  });

  it("seals under key id k1 with a 12-byte IV when the secret is a bare key", async () => {
    const sealed = await encryptSecret(envOf(newKey()), "x");
    const [id, iv, data] = sealed.split(".");
    expect(id).toBe("k1");
    expect(fromBase64(iv ?? "")?.byteLength).toBe(12);
    // One byte of plaintext plus the 16-byte GCM tag.
    expect(fromBase64(data ?? "")?.byteLength).toBe(17);
  });

  it("makes a different ciphertext each time for the same plaintext", async () => {
    const env = envOf(newKey());
    const first = await encryptSecret(env, "same");
    const second = await encryptSecret(env, "same");
    expect(first).not.toBe(second);
    expect(first.split(".")[1]).not.toBe(second.split(".")[1]);
    expect(await decryptSecret(env, first)).toBe("same");
    expect(await decryptSecret(env, second)).toBe("same");
  });

  it("round-trips JSON values", async () => {
    const env = envOf(newKey());
    const value = { appSecretToken: "a", agreementGrantToken: "b", layout: 19, nested: [1, null, true] };
    expect(await decryptJson(env, await encryptJson(env, value))).toEqual(value);
  });
});

describe("key rotation", () => {
  it("still opens a value sealed under k1 after k2 is added in front", async () => {
    const oldKey = newKey();
    const sealed = await encryptSecret(envOf(`k1:${oldKey}`), "old secret");
    const rotated = envOf(`k2:${newKey()},k1:${oldKey}`);
    expect(await decryptSecret(rotated, sealed)).toBe("old secret");
  });

  it("opens under k1 a value sealed with a bare key", async () => {
    const oldKey = newKey();
    const sealed = await encryptSecret(envOf(oldKey), "old secret");
    expect(await decryptSecret(envOf(`k2:${newKey()},k1:${oldKey}`), sealed)).toBe("old secret");
  });

  it("seals new values under the first key listed", async () => {
    const newest = newKey();
    const rotated = envOf(`k2:${newest},k1:${newKey()}`);
    const sealed = await encryptSecret(rotated, "new secret");
    expect(sealed.startsWith("k2.")).toBe(true);
    expect(await decryptSecret(envOf(`k2:${newest}`), sealed)).toBe("new secret");
  });

  it("refuses a value sealed under a key id that is no longer listed", async () => {
    const sealed = await encryptSecret(envOf(`k2:${newKey()}`), "secret");
    const error = await rejection(decryptSecret(envOf(`k1:${newKey()}`), sealed));
    expect(error).toBeInstanceOf(OrderlyError);
    expect((error as OrderlyError).code).toBe("credentials_key_unknown");
    expect((error as OrderlyError).message).toContain('"k2"');
  });

  it("fails to open a value when its key id now names different key material", async () => {
    const sealed = await encryptSecret(envOf(`k1:${newKey()}`), "secret");
    await expect(decryptSecret(envOf(`k1:${newKey()}`), sealed)).rejects.toThrow();
  });
});

describe("damaged values and bad keys", () => {
  it("refuses a tampered ciphertext", async () => {
    const env = envOf(newKey());
    const sealed = await encryptSecret(env, "secret");
    await expect(decryptSecret(env, tamper(sealed, 2))).rejects.toThrow();
  });

  it("refuses a tampered IV", async () => {
    const env = envOf(newKey());
    const sealed = await encryptSecret(env, "secret");
    await expect(decryptSecret(env, tamper(sealed, 1))).rejects.toThrow();
  });

  it("never names a value stored unsealed as its key id (the secret would reach the page, the API and errors)", async () => {
    const env = envOf(newKey());
    for (const stored of ["sk_live_9f8e7d6c5b4a", '{"apiKey":"abc.def.ghi"}', "Bearer xyz.abc.def"]) {
      const error = await decryptSecret(env, stored).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OrderlyError);
      expect((error as OrderlyError).code).toBe("credentials_damaged");
      expect((error as OrderlyError).message).not.toContain(stored.split(".")[0]);
    }
  });

  it("refuses a value that is not in the sealed format", async () => {
    const error = await rejection(decryptSecret(envOf(newKey()), "plaintext-token"));
    expect((error as OrderlyError).code).toBe("credentials_damaged");
  });

  it("refuses to work without a key", async () => {
    for (const env of [envOf(""), {} as { CREDENTIALS_KEY: string }]) {
      const encrypting = await rejection(encryptSecret(env, "x"));
      expect(encrypting).toBeInstanceOf(OrderlyError);
      expect((encrypting as OrderlyError).code).toBe("credentials_key_missing");
      const decrypting = await rejection(decryptSecret(env, "k1.AAAA.AAAA"));
      expect((decrypting as OrderlyError).code).toBe("credentials_key_missing");
    }
  });

  it("refuses a key that is not 32 bytes", async () => {
    for (const key of [toBase64(new Uint8Array(16)), toBase64(new Uint8Array(33)), "%%%%"]) {
      const error = await rejection(encryptSecret(envOf(key), "x"));
      expect(error).toBeInstanceOf(OrderlyError);
      expect((error as OrderlyError).code).toBe("credentials_key_invalid");
    }
  });

  it("names the bad entry of a key list", async () => {
    const error = await rejection(encryptSecret(envOf(`k2:${newKey()},k1:${toBase64(new Uint8Array(8))}`), "x"));
    expect((error as OrderlyError).code).toBe("credentials_key_invalid");
    expect((error as OrderlyError).message).toContain('"k1"');
  });

  it("refuses a key list that names one id twice", async () => {
    const error = await rejection(encryptSecret(envOf(`k2:${newKey()},k2:${newKey()}`), "x"));
    expect((error as OrderlyError).message).toContain('"k2" twice');
  });

  it("refuses a key list that mixes bare and named keys, which would shadow ids", async () => {
    const error = await rejection(encryptSecret(envOf(`k2:${newKey()},${newKey()}`), "x"));
    expect((error as OrderlyError).code).toBe("credentials_key_invalid");
  });

  it("ignores spaces around the entries of a key list", async () => {
    const [fresh, old] = [newKey(), newKey()];
    const sealed = await encryptSecret(envOf(`k1:${old}`), "kept");
    expect(await decryptSecret(envOf(` k2:${fresh} , k1:${old} `), sealed)).toBe("kept");
  });
});
