/** Sign in with email and password. */
import { Errors, TextField } from "../components/form";

export function SignInPage(props: { formToken: string; email?: string; error?: string; next?: string }) {
  return (
    <section class="narrow">
      <h1>Sign in</h1>
      <Errors errors={props.error ? [props.error] : null} />
      <form method="post" action="/sign-in">
        <input type="hidden" name="_csrf" value={props.formToken} />
        {props.next ? <input type="hidden" name="next" value={props.next} /> : null}
        <TextField id="email" name="email" label="Email" type="email" value={props.email} autocomplete="username" required />
        <TextField id="password" name="password" label="Password" type="password" autocomplete="current-password" required />
        <button type="submit">Sign in</button>
      </form>
      <p>
        <a href="/forgot-password">Forgot your password?</a>
      </p>
    </section>
  );
}
