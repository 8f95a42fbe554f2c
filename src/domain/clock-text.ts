/** How e-mails and messages write a moment: date and time in UTC to the minute, "2026-11-27 07:40". */
export function utcMinute(at: number): string {
  return new Date(at).toISOString().slice(0, 16).replace("T", " ");
}
