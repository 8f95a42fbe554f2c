/** New shop: a tenant of its own, with the person creating it as its owner. */
import { TENANT_NAME_MAX } from "../../db/tenants";
import { Errors, PostForm, TextField } from "../components/form";

export interface NewTenantValues {
  name: string;
  alertEmails: string;
}

export function NewTenantPage(props: { values: NewTenantValues; csrf: string; errors?: string[] }) {
  return (
    <>
      <h1>New shop</h1>
      <p>
        A shop is a tenant of its own: its connections, flows, transfer log and people are kept apart from your other shops. You
        become its owner and work in it right away; invite others under Users &amp; API tokens.
      </p>
      <Errors errors={props.errors} />
      <PostForm action="/tenants/new" csrf={props.csrf} label="New shop">
        <TextField
          id="name"
          name="name"
          label="Shop name"
          value={props.values.name}
          required
          help={`How the shop is named in the tenant switcher (up to ${TENANT_NAME_MAX} characters).`}
        />
        <div class="field">
          <label for="alertEmails">Alert and report recipients (optional)</label>
          <textarea id="alertEmails" name="alertEmails" rows={3} aria-describedby="alertEmails-help">
            {props.values.alertEmails}
          </textarea>
          <p class="help" id="alertEmails-help">
            One email address per line (at most 20). Leave it empty to set them later under Notifications.
          </p>
        </div>
        <button type="submit">Create shop</button>
      </PostForm>
    </>
  );
}
