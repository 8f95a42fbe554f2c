/** Notification settings: who gets alerts and reports, when, through which mail provider, retention. */
import { MAX_SILENCE_HOURS } from "../../notifications/silence";
import { Errors, PostForm, SelectField, TextField } from "../components/form";

export interface NotificationValues {
  alertEmails: string;
  reportSchedule: string;
  silenceHours: string;
  mailConnectionId: string;
  retentionDays: string;
}

export function NotificationsPage(props: {
  values: NotificationValues;
  mailConnections: Array<{ id: string; name: string }>;
  csrf: string;
  canEdit: boolean;
  errors?: string[];
}) {
  const v = props.values;
  return (
    <>
      <h1>Notifications</h1>
      <p>
        Error alerts and status reports go by email to the people below. What is sent, and when, is decided by Orderly's alerting.
      </p>
      <Errors errors={props.errors} />
      <PostForm action="/notifications" csrf={props.csrf} label="Notification settings">
        <fieldset disabled={!props.canEdit}>
          <legend>Recipients and schedule</legend>
          <div class="field">
            <label for="alertEmails">Alert and report recipients</label>
            <textarea id="alertEmails" name="alertEmails" rows={4} aria-describedby="alertEmails-help">
              {v.alertEmails}
            </textarea>
            <p class="help" id="alertEmails-help">
              One email address per line (at most 20).
            </p>
          </div>
          <SelectField
            id="reportSchedule"
            name="reportSchedule"
            label="Status report"
            value={v.reportSchedule}
            options={[
              { value: "off", label: "Off" },
              { value: "daily", label: "Daily" },
              { value: "weekly", label: "Weekly" },
            ]}
            help="A summary of transfers, failures and what waits."
          />
          <TextField
            id="silenceHours"
            name="silenceHours"
            type="number"
            label="Silence alert after (hours)"
            value={v.silenceHours}
            min={1}
            max={MAX_SILENCE_HOURS}
            help={`Alert when a source that normally sends orders has sent none for this many hours (1 to ${MAX_SILENCE_HOURS}). Leave blank for off.`}
          />
          <SelectField
            id="mailConnectionId"
            name="mailConnectionId"
            label="Mail provider"
            value={v.mailConnectionId}
            options={[
              { value: "", label: "Dev outbox (nothing leaves Orderly)" },
              ...props.mailConnections.map((m) => ({ value: m.id, label: m.name })),
            ]}
            help="A Resend or Postmark connection sends real email; add one under Connections."
          />
          <TextField
            id="retentionDays"
            name="retentionDays"
            type="number"
            label="Keep the transfer log for (days)"
            value={v.retentionDays}
            min={7}
            max={3650}
            required
            help="Transfers, snapshots and emails older than this are deleted (a sent invoice e-mail keeps a record without its body or recipients, so it is never sent twice). At least 7."
          />
          <button type="submit">Save notification settings</button>
        </fieldset>
      </PostForm>
    </>
  );
}
