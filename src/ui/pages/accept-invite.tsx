/** Accept an invitation: a new person chooses a name and password; an existing one confirms theirs. */
import { Errors, TextField } from "../components/form";

export function AcceptInvitePage(props: {
  formToken: string;
  token: string;
  email?: string;
  tenantName?: string;
  role?: string;
  existingUser?: boolean;
  error?: string;
  invalid?: boolean;
}) {
  if (props.invalid) {
    return (
      <section class="narrow">
        <h1>Invitation</h1>
        <p class="flash error" role="alert">
          This invitation is not valid any more: it was used, it expired, or it was withdrawn. Ask the person who invited you for
          a new one.
        </p>
      </section>
    );
  }
  return (
    <section class="narrow">
      <h1>Join {props.tenantName}</h1>
      <p>
        You were invited as <strong>{props.role}</strong> with the address {props.email}.
      </p>
      <Errors errors={props.error ? [props.error] : null} />
      <form method="post" action={`/invite/${props.token}`}>
        <input type="hidden" name="_csrf" value={props.formToken} />
        {props.existingUser ? (
          <TextField
            id="password"
            name="password"
            label="Your current password"
            type="password"
            autocomplete="current-password"
            help="You already have an account; confirm it is you."
            required
          />
        ) : (
          <>
            <TextField id="name" name="name" label="Your name" autocomplete="name" required />
            <TextField
              id="password"
              name="password"
              label="Choose a password"
              type="password"
              autocomplete="new-password"
              help="At least 10 characters."
              required
            />
          </>
        )}
        <button type="submit">Accept invitation</button>
      </form>
    </section>
  );
}
