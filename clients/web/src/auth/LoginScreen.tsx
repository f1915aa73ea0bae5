import { useLocation } from "preact-iso";
import { useEffect, useState } from "preact/hooks";
import { type Described, describeError, t } from "../i18n";
import { ErrorLine, Field, Notice, ScreenTitle } from "../app/ui";
import { endedBecause, login } from "./session";

export function LoginScreen() {
  const { route, query } = useLocation();
  const [username, setUsername] = useState(query.username ?? "");
  const [password, setPassword] = useState("");
  const [totp, setTotp] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Described | null>(null);

  useEffect(() => {
    performance.mark("cordon:login-interactive");
  }, []);

  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await login(username.trim(), password, totp.trim() || null);
      route("/", true);
    } catch (failure) {
      setError(describeError(failure));
      setPassword("");
      setTotp("");
    } finally {
      setBusy(false);
    }
  }

  const ended = endedBecause.value;
  return (
    <section class="card" aria-labelledby="login-title">
      <ScreenTitle>
        <span id="login-title">{t("login.title")}</span>
      </ScreenTitle>
      {ended && <Notice>{t(`login.${ended}`)}</Notice>}
      <form onSubmit={submit} noValidate>
        <Field name="username" label={t("login.username")} value={username} onInput={setUsername} autoComplete="username" required dir="ltr" />
        <Field name="password" label={t("login.password")} type="password" value={password} onInput={setPassword} autoComplete="current-password" required dir="ltr" />
        <Field
          name="totp"
          label={t("login.totp")}
          hint={t("login.totp_hint")}
          value={totp}
          onInput={setTotp}
          autoComplete="one-time-code"
          inputMode="numeric"
          pattern="[0-9]{6}"
          maxLength={6}
          dir="ltr"
        />
        <ErrorLine error={error} />
        <button type="submit" disabled={busy || !username || !password}>
          {t("login.submit")}
        </button>
      </form>
      <p>
        <a href="/enrol">{t("login.enrol_link")}</a>
      </p>
    </section>
  );
}
