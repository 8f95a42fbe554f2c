/**
 * A connection's base URL: https on a public host, the vendor's origin and path only. The tenant
 * reads every answer in the snapshots, so anything else made Orderly a proxy it could aim anywhere.
 */
import { env } from "cloudflare:test";
import { withEnv } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { baseUrlProblem } from "../../src/connectors/base-url";
import { billyConnectionSettings } from "../../src/connectors/billy/billy.settings";
import { economicConnectionSettings } from "../../src/connectors/economic/economic.settings";
import { postmarkSettings } from "../../src/connectors/postmark";
import { resendSettings } from "../../src/connectors/resend";
import { allowPrivateBaseUrls } from "../../src/worker/config";

const EXAMPLE = "https://restapi.e-conomic.com";
const strict = (url: string) => baseUrlProblem(url, EXAMPLE, { allowPrivate: false });
const relaxed = (url: string) => baseUrlProblem(url, EXAMPLE, { allowPrivate: true });

describe("a connection's base URL", () => {
  it("takes the vendors' https addresses, with a path", () => {
    for (const url of [
      "https://restapi.e-conomic.com",
      "https://api.billysbilling.com/v2",
      "https://api.billysbilling.com/v2/",
      "https://sandbox.example/e-conomic/",
      "https://economic.test",
    ])
      expect(strict(url), url).toBeNull();
  });

  it("refuses a fragment or query that would swallow the connector's own path", () => {
    expect(strict("https://evil.example/anything#")).toContain("must not have a fragment");
    expect(strict("https://evil.example/x#y")).toContain("must not have a fragment");
    expect(strict("https://evil.example/x?")).toContain("must not have a query");
    expect(strict("https://evil.example/x?to=")).toContain("must not have a query");
    expect(strict("https://user:pw@api.example.com")).toContain("user name or password");
  });

  it("refuses http and other schemes, naming the address to use instead", () => {
    expect(strict("http://restapi.e-conomic.com")).toBe(
      "must be an https URL of the vendor's API, such as https://restapi.e-conomic.com (http is not allowed)",
    );
    expect(strict("file:///etc/passwd")).toContain("such as https://restapi.e-conomic.com");
    expect(strict("restapi.e-conomic.com")).toContain("is not a URL");
  });

  it("refuses IP addresses in any spelling, and local, internal and single-label names", () => {
    for (const url of [
      "https://127.0.0.1",
      "https://169.254.169.254/latest/meta-data",
      "https://2130706433",
      "https://0x7f.1",
      "https://10.0.0.1:8443/api",
      "https://[::1]",
      "https://[fd00::1]:8443",
      "https://[::ffff:169.254.169.254]",
    ])
      expect(strict(url), url).toMatch(/not an IP address/);
    for (const url of [
      "https://localhost",
      "https://localhost.",
      "https://api.localhost",
      "https://printer.local",
      "https://metadata.google.internal",
      "https://METADATA.GOOGLE.INTERNAL.",
      "https://router.home.arpa",
    ])
      expect(strict(url), url).toMatch(/not a local or internal one/);
    expect(strict("https://intranet/api")).toMatch(/not a single-label one/);
  });

  it("lets the operator's switch through http and private hosts, never a fragment, query or user info", () => {
    expect(relaxed("http://127.0.0.1:8787/e/1")).toBeNull();
    expect(relaxed("http://localhost:3000")).toBeNull();
    expect(relaxed("http://127.0.0.1:8787/e/1#")).toContain("fragment");
    expect(relaxed("http://127.0.0.1:8787/?")).toContain("query");
    expect(relaxed("http://a:b@127.0.0.1")).toContain("user name");
    expect(relaxed("ftp://127.0.0.1")).toContain("ftp is not allowed");
  });

  it("reads the switch as on only for the exact word true", () => {
    expect(allowPrivateBaseUrls({ ALLOW_PRIVATE_BASE_URLS: "true" })).toBe(true);
    for (const value of ["false", "", "1", "yes", undefined as unknown as string])
      expect(allowPrivateBaseUrls({ ALLOW_PRIVATE_BASE_URLS: value })).toBe(false);
  });
});

describe("every connector's baseUrl setting", () => {
  const schemas = [
    ["e-conomic", economicConnectionSettings, {}, "https://restapi.e-conomic.com"],
    ["Billy", billyConnectionSettings, {}, "https://api.billysbilling.com/v2"],
    ["Postmark", postmarkSettings, { from: "shop@example.dk" }, "https://api.postmarkapp.com"],
    ["Resend", resendSettings, { from: "shop@example.dk" }, "https://api.resend.com"],
  ] as const;

  it.each(schemas)("%s refuses a tenant-chosen URL and a private host, and keeps its default", (_, schema, rest, vendor) => {
    const hijack = schema.safeParse({ ...rest, baseUrl: "http://203.0.113.7/steal#" });
    expect(hijack.success).toBe(false);
    const metadata = schema.safeParse({ ...rest, baseUrl: "https://169.254.169.254" });
    expect(metadata.success).toBe(false);
    expect(metadata.error?.issues[0]?.path).toEqual(["baseUrl"]);
    expect(metadata.error?.issues[0]?.message).toContain(`such as ${vendor}`);
    expect(schema.parse(rest).baseUrl).toBe(vendor);
  });

  it("follows ALLOW_PRIVATE_BASE_URLS of the Worker's bindings (off in the tests, as in production)", () => {
    const mock = { baseUrl: "http://127.0.0.1:8787/e/1" };
    expect(economicConnectionSettings.safeParse(mock).success).toBe(false);
    const onLocally = withEnv({ ...env, ALLOW_PRIVATE_BASE_URLS: "true" }, () => economicConnectionSettings.safeParse(mock));
    expect(onLocally).toMatchObject({ success: true, data: mock });
  });
});
