/** /notifications: the tenant's alert recipients, report schedule, silence hours, mail provider, retention. */
import { and, eq, inArray } from "drizzle-orm";
import { type Context, Hono } from "hono";
import { z } from "zod";
import { database } from "../../../db/client";
import { connections, tenants } from "../../../db/schema";
import { MAIL_CONNECTORS, mailConnectionProblem } from "../../../mail/mail-connection";
import { MAX_SILENCE_HOURS } from "../../../notifications/silence";
import { NotificationsPage, type NotificationValues } from "../../../ui/pages/notifications";
import { audit } from "./audit";
import { page, redirectWith } from "./render";
import { canEdit, type UiEnv } from "./ui-env";

export const notificationRoutes = new Hono<UiEnv>();

const settingsSchema = z.object({
  alertEmails: z
    .array(z.email({ error: (i) => `“${String(i.input)}” is not an email address` }))
    .max(20, "at most 20 recipients"),
  reportSchedule: z.enum(["off", "daily", "weekly"]),
  silenceHours: z
    .number()
    .int("whole hours")
    .min(1, "at least 1 hour")
    .max(MAX_SILENCE_HOURS, `at most ${MAX_SILENCE_HOURS} hours (two weeks)`)
    .nullable(),
  mailConnectionId: z.string().nullable(),
  retentionDays: z.number().int().min(7, "keep the log at least 7 days").max(3650),
});

async function render(c: Context<UiEnv>, values?: NotificationValues, errors?: string[]) {
  const s = c.var.session;
  const db = database(c.env);
  const [tenant, mail] = await Promise.all([
    db.select().from(tenants).where(eq(tenants.id, s.tenantId)).get(),
    db
      .select({ id: connections.id, name: connections.name })
      .from(connections)
      .where(and(eq(connections.tenantId, s.tenantId), inArray(connections.connector, [...MAIL_CONNECTORS]))),
  ]);
  const current: NotificationValues = values ?? {
    alertEmails: (tenant?.alertEmails ?? []).join("\n"),
    reportSchedule: tenant?.reportSchedule ?? "off",
    silenceHours: tenant?.silenceHours ? String(tenant.silenceHours) : "",
    mailConnectionId: tenant?.mailConnectionId ?? "",
    retentionDays: String(tenant?.retentionDays ?? 90),
  };
  return page(
    c,
    { title: "Notifications", active: "notifications", status: errors ? 400 : 200 },
    <NotificationsPage values={current} mailConnections={mail} csrf={s.csrfToken} canEdit={canEdit(s.role)} errors={errors} />,
  );
}

notificationRoutes.get("/", (c) => render(c));

notificationRoutes.post("/", async (c) => {
  const s = c.var.session;
  const form = await c.req.parseBody();
  const text = (k: string) => (typeof form[k] === "string" ? (form[k] as string).trim() : "");
  const values: NotificationValues = {
    alertEmails: text("alertEmails"),
    reportSchedule: text("reportSchedule"),
    silenceHours: text("silenceHours"),
    mailConnectionId: text("mailConnectionId"),
    retentionDays: text("retentionDays"),
  };
  const parsed = settingsSchema.safeParse({
    alertEmails: values.alertEmails.split(/[\s,;]+/).filter(Boolean),
    reportSchedule: values.reportSchedule,
    silenceHours: values.silenceHours ? Number(values.silenceHours) : null,
    mailConnectionId: values.mailConnectionId || null,
    retentionDays: Number(values.retentionDays),
  });
  if (!parsed.success)
    return render(
      c,
      values,
      parsed.error.issues.map((i) => `${String(i.path[0] ?? "")}: ${i.message}`),
    );
  if (parsed.data.mailConnectionId) {
    const mail = await database(c.env)
      .select({ id: connections.id, name: connections.name, connector: connections.connector, enabled: connections.enabled })
      .from(connections)
      .where(and(eq(connections.id, parsed.data.mailConnectionId), eq(connections.tenantId, s.tenantId)))
      .get();
    const problem = mail ? mailConnectionProblem(mail) : "choose one of this tenant's mail connections";
    if (problem) return render(c, values, [`mailConnectionId: ${problem}`]);
  }
  await database(c.env).update(tenants).set(parsed.data).where(eq(tenants.id, s.tenantId));
  await audit(c.env, s, "tenant.notifications", s.tenantId, parsed.data);
  return redirectWith(c, "/notifications", "Notification settings saved.");
});
