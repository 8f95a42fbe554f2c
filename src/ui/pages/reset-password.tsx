/** Choose a new password from an emailed link. */
import { Errors, TextField } from "../components/form";

export function ResetPasswordPage(props: {
  formToken: string;
  token: string;
  email?: string;
  error?: string;
  invalid?: boolean;
}) {
  return (
    <section class="narrow">
      <h1>Choose a new password</h1>
      {props.invalid ? (
        <p class="flash error" role="alert">
          This link is not valid any more: it was used, it expired (links last one hour), or it was never issued.{" "}
          <a href="/forgot-password">Ask for a new one</a>.
        </p>
      ) : (
        <>
          <Errors errors={props.error ? [props.error] : null} />
          <p>For {props.email}.</p>
          <form method="post" action={`/reset-password/${props.token}`}>
            <input type="hidden" name="_csrf" value={props.formToken} />
            <TextField
              id="password"
              name="password"
              label="New password"
              type="password"
              autocomplete="new-password"
              help="At least 10 characters."
              required
            />
            <button type="submit">Save password and sign in</button>
          </form>
        </>
      )}
    </section>
  );
}
