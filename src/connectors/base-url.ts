/**
 * The address a connection calls (its `baseUrl`), one zod schema for every connector. The tenant
 * chooses it and can read every answer in the step's snapshots, so an unchecked address made
 * Orderly an open proxy: a `#` or `?` swallowed the connector's own path and left the whole URL
 * to the tenant, and a private host reached whatever sits beside a self-hosted workerd (cloud
 * metadata, admin ports). The address must be https, the vendor's own origin and path only, on a
 * public host name. Names that resolve to a private address cannot be told apart here; in
 * production Cloudflare's network does not reach private addresses, and a self-hosted runtime
 * needs its egress limited (README, "Connectors").
 */
import { env } from "cloudflare:workers";
import { z } from "zod";
import { allowPrivateBaseUrls } from "../worker/config";

export interface BaseUrlPolicy {
  /** Local mocks and benches only (ALLOW_PRIVATE_BASE_URLS): http and private hosts are let through. */
  allowPrivate: boolean;
}

/** Host names that only mean something inside one machine or network. */
const PRIVATE_NAMES = ["localhost"];
const PRIVATE_SUFFIXES = [".localhost", ".local", ".internal", ".home.arpa"];
const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;

/**
 * Why `value` cannot be a connection's base URL, or null when it can. `example` is the vendor's
 * own address, named in every message so the person knows what to type instead.
 */
export function baseUrlProblem(value: string, example: string, policy: BaseUrlPolicy): string | null {
  const expected = `must be an https URL of the vendor's API, such as ${example}`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `is not a URL: it ${expected}`;
  }
  const schemes = policy.allowPrivate ? ["https:", "http:"] : ["https:"];
  if (!schemes.includes(url.protocol)) return `${expected} (${url.protocol.replace(/:$/, "")} is not allowed)`;
  if (url.username || url.password)
    return `must not carry a user name or password; the connection's credentials hold those. It ${expected}`;
  // The raw text is checked too: "https://host/?" parses to an empty search but still turns the
  // connector's path into a query once the path is appended.
  if (url.search || value.includes("?")) return `must not have a query (?…): it ${expected}`;
  if (url.hash || value.includes("#")) return `must not have a fragment (#…): it ${expected}`;
  if (policy.allowPrivate) return null;
  return hostProblem(url.hostname, expected);
}

/** The URL parser has already turned every spelling of an IPv4 address (0x7f.1, 2130706433) into dotted form. */
function hostProblem(hostname: string, expected: string): string | null {
  const host = hostname.toLowerCase().replace(/\.$/, "");
  if (host.startsWith("[") || IPV4.test(host))
    return `must name the vendor's host, not an IP address (${hostname}): it ${expected}`;
  if (PRIVATE_NAMES.includes(host) || PRIVATE_SUFFIXES.some((suffix) => host.endsWith(suffix)))
    return `must be a public host name, not a local or internal one (${hostname}): it ${expected}`;
  if (!host.includes(".")) return `must be a full public host name, not a single-label one (${hostname}): it ${expected}`;
  return null;
}

/**
 * The `baseUrl` setting of a connector that calls `example` (the vendor's API). The operator's
 * switch is read at each check from the Worker's bindings, so the API, the UI and a stored
 * connection being loaded all apply the same rule without passing `env` through every schema.
 */
export function baseUrlSetting(example: string, what: string) {
  return z
    .string()
    .trim()
    .superRefine((value, ctx) => {
      const problem = baseUrlProblem(value, example, { allowPrivate: allowPrivateBaseUrls(env) });
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    })
    .default(example)
    .describe(
      `${what} An https address on a public host name, without a query or fragment; leave the default unless a sandbox or proxy stands in for it.`,
    );
}
