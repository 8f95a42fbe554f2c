// Keeps wrangler and miniflare offline in every script: no metrics, no error reports, no cf fetch.
export const OFFLINE_ENV = {
  WRANGLER_SEND_METRICS: "false",
  WRANGLER_SEND_ERROR_REPORTS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
};
Object.assign(process.env, OFFLINE_ENV);
