/** Knobs of alerts and status reports, from wrangler.toml [vars]. */
export interface NotificationConfig {
  /** After an immediate alert, further ones of the same topic are grouped for this long. */
  alertWindowMs: number;
  /** Hour (UTC) at which daily and weekly status reports go out. */
  reportHourUtc: number;
}

const MINUTE_MS = 60_000;

export function notificationConfig(env: Partial<Pick<Env, "ALERT_WINDOW_MINUTES" | "REPORT_HOUR_UTC">>): NotificationConfig {
  const minutes = parse(env.ALERT_WINDOW_MINUTES, (n) => n > 0);
  const hour = parse(env.REPORT_HOUR_UTC, (n) => Number.isInteger(n) && n >= 0 && n <= 23);
  return { alertWindowMs: (minutes ?? 15) * MINUTE_MS, reportHourUtc: hour ?? 6 };
}

function parse(value: string | undefined, valid: (n: number) => boolean): number | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  const n = Number(value);
  return Number.isFinite(n) && valid(n) ? n : undefined;
}
