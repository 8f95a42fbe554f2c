/** Users & API tokens: members and their roles, invitations, and the tenant's API tokens. */
import type { Role } from "../../db/schema";
import { when } from "../../worker/routes/ui/render";
import { CopyField } from "../components/copy-field";
import { Errors, PostForm, SelectField, TextField } from "../components/form";

export interface MemberRow {
  userId: string;
  email: string;
  name: string;
  role: Role;
  lastLoginAt: number | null;
}

export interface PeopleProps {
  members: MemberRow[];
  invites: Array<{ tokenHash: string; email: string; role: Role | null; expiresAt: number }>;
  tokens: Array<{ id: string; name: string; createdAt: number; lastUsedAt: number | null }>;
  me: { userId: string; role: Role };
  csrf: string;
  canEdit: boolean;
  newToken?: { name: string; token: string };
  errors?: string[];
}

const roleOptions = (me: Role) =>
  (me === "owner" ? (["viewer", "admin", "owner"] as const) : (["viewer", "admin"] as const)).map((r) => ({
    value: r,
    label: r,
  }));

export function PeoplePage(p: PeopleProps) {
  return (
    <>
      <h1>Users &amp; API tokens</h1>
      <Errors errors={p.errors} />
      <section aria-labelledby="h-members">
        <h2 id="h-members">People</h2>
        <p class="help">Owners and admins change settings; viewers can read everything but change nothing.</p>
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Email</th>
              <th scope="col">Role</th>
              <th scope="col">Last sign-in</th>
              {p.canEdit ? <th scope="col">Change</th> : null}
            </tr>
          </thead>
          <tbody>
            {p.members.map((m) => (
              <tr>
                <td>{m.name}</td>
                <td>{m.email}</td>
                <td>{m.role}</td>
                <td>{when(m.lastLoginAt)}</td>
                {p.canEdit ? (
                  <td class="actions">
                    {m.role === "owner" && p.me.role !== "owner" ? (
                      <span class="muted">Only an owner changes an owner.</span>
                    ) : (
                      <>
                        <PostForm
                          action={`/people/members/${m.userId}/role`}
                          csrf={p.csrf}
                          class="inline"
                          label={`Role of ${m.email}`}
                        >
                          <label for={`role-${m.userId}`} class="visually-hidden">
                            Role of {m.email}
                          </label>
                          <select id={`role-${m.userId}`} name="role">
                            {roleOptions(p.me.role).map((o) => (
                              <option value={o.value} selected={o.value === m.role}>
                                {o.label}
                              </option>
                            ))}
                          </select>
                          <button type="submit" class="secondary">
                            Set role<span class="visually-hidden"> of {m.email}</span>
                          </button>
                        </PostForm>
                        <PostForm
                          action={`/people/members/${m.userId}/remove`}
                          csrf={p.csrf}
                          class="inline"
                          label={`Remove ${m.email}`}
                        >
                          <button type="submit" class="danger">
                            {m.userId === p.me.userId ? "Leave this tenant" : "Remove"}
                            <span class="visually-hidden"> {m.email}</span>
                          </button>
                        </PostForm>
                      </>
                    )}
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
        {p.invites.length > 0 ? (
          <>
            <h3>Invitations not yet accepted</h3>
            <ul>
              {p.invites.map((i) => (
                <li>
                  {i.email} as {i.role ?? "viewer"}, valid until {when(i.expiresAt)}
                  {p.canEdit ? (
                    <PostForm
                      action={`/people/invites/${i.tokenHash}/withdraw`}
                      csrf={p.csrf}
                      class="inline"
                      label={`Withdraw invitation of ${i.email}`}
                    >
                      <button type="submit" class="link">
                        Withdraw<span class="visually-hidden"> the invitation of {i.email}</span>
                      </button>
                    </PostForm>
                  ) : null}
                </li>
              ))}
            </ul>
          </>
        ) : null}
        {p.canEdit ? (
          <PostForm action="/people/invite" csrf={p.csrf} label="Invite someone" class="card">
            <h3>Invite someone</h3>
            <TextField id="invite-email" name="email" type="email" label="Email" required autocomplete="off" />
            <SelectField id="invite-role" name="role" label="Role" options={roleOptions(p.me.role)} value="viewer" />
            <button type="submit">Send invitation</button>
            <p class="help">They get an email with a link valid for 7 days.</p>
          </PostForm>
        ) : null}
      </section>
      <section aria-labelledby="h-tokens">
        <h2 id="h-tokens">API tokens</h2>
        <p class="help">
          For the JSON API at <code>/api/v1</code> (<a href="/api/v1/openapi.json">OpenAPI</a>). A token is shown once, when made;
          Orderly stores only its hash.
        </p>
        {p.newToken ? (
          <div class="flash ok" role="status">
            <CopyField
              id="new-token"
              label={`New token “${p.newToken.name}”`}
              value={p.newToken.token}
              help="Copy it now: it will not be shown again."
            />
          </div>
        ) : null}
        {p.tokens.length === 0 ? (
          <p>No API tokens.</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Made</th>
                <th scope="col">Last used</th>
                {p.canEdit ? <th scope="col">Revoke</th> : null}
              </tr>
            </thead>
            <tbody>
              {p.tokens.map((t) => (
                <tr>
                  <td>{t.name}</td>
                  <td>{when(t.createdAt)}</td>
                  <td>{when(t.lastUsedAt)}</td>
                  {p.canEdit ? (
                    <td>
                      <PostForm action={`/people/tokens/${t.id}/revoke`} csrf={p.csrf} class="inline" label={`Revoke ${t.name}`}>
                        <button type="submit" class="danger">
                          Revoke<span class="visually-hidden"> {t.name}</span>
                        </button>
                      </PostForm>
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {p.canEdit ? (
          <PostForm action="/people/tokens" csrf={p.csrf} label="Make an API token" class="card">
            <TextField id="token-name" name="name" label="Token name" required help="What uses it, e.g. “ERP export”." />
            <button type="submit">Make token</button>
          </PostForm>
        ) : null}
      </section>
    </>
  );
}
