/** Ask for a password reset link by email. */
import { TextField } from "../components/form";

export function ForgotPasswordPage(props: { formToken: string; sent?: boolean }) {
  return (
    <section class="narrow">
      <h1>Reset your password</h1>
      {props.sent ? (
        <p role="status" class="flash ok">
          If an account exists for that address, a link to choose a new password is on its way. It works once, for one hour.
        </p>
      ) : (
        <form method="post" action="/forgot-password">
          <input type="hidden" name="_csrf" value={props.formToken} />
          <TextField id="email" name="email" label="Email" type="email" autocomplete="username" required />
          <button type="submit">Send reset link</button>
        </form>
      )}
      <p>
        <a href="/sign-in">Back to sign in</a>
      </p>
    </section>
  );
}
