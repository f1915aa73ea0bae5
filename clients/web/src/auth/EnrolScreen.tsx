/** Redeem an enrolment code: see whose account it is, set a password, load TOTP if required. */
import { useLocation } from "preact-iso";
import { useState } from "preact/hooks";
import { call } from "../api/client";
import type { EnrolmentComplete, EnrolmentInfo, UserRead } from "../api/types";
import { ErrorLine, Field, ScreenTitle } from "../app/ui";
import { type Described, describeError, t } from "../i18n";
import { endedBecause } from "./session";
import { TotpSetup } from "./TotpSetup";

const MIN_PASSWORD = 12;

export function EnrolScreen() {
  const { route } = useLocation();
  const [code, setCode] = useState("");
  const [info, setInfo] = useState<EnrolmentInfo | null>(null);
  const [password, setPassword] = useState("");
  const [again, setAgain] = useState("");
  const [totp, setTotp] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Described | null>(null);

  async function inspect(event: Event) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      setInfo(await call<EnrolmentInfo>("POST", "/auth/enrolment/inspect", { body: { code: code.trim() } }));
    } catch (failure) {
      setError(describeError(failure));
    } finally {
      setBusy(false);
    }
  }

  async function complete(event: Event) {
    event.preventDefault();
    if (password.length < MIN_PASSWORD) return setError({ message: t("enrol.too_short"), code: null });
    if (password !== again) return setError({ message: t("enrol.mismatch"), code: null });
    setBusy(true);
    setError(null);
    try {
      const body: EnrolmentComplete = { code: code.trim(), password, totp_code: info?.totp_required ? totp.trim() : null };
      const user = await call<UserRead>("POST", "/auth/enrolment/complete", { body });
      endedBecause.value = "enrolled";
      route(`/login?username=${encodeURIComponent(user.username)}`);
    } catch (failure) {
      setError(describeError(failure));
    } finally {
      setBusy(false);
    }
  }

  if (!info) {
    return (
      <section class="card">
        <ScreenTitle>{t("enrol.title")}</ScreenTitle>
        <form onSubmit={inspect} noValidate>
          <Field name="code" label={t("enrol.code")} hint={t("enrol.code_hint")} value={code} onInput={setCode} autoComplete="off" required dir="ltr" />
          <ErrorLine error={error} />
          <button type="submit" disabled={busy || code.trim().length < 8}>
            {t("enrol.next")}
          </button>
        </form>
        <p>
          <a href="/login">{t("enrol.back")}</a>
        </p>
      </section>
    );
  }
  return (
    <section class="card">
      <ScreenTitle>{t("enrol.title")}</ScreenTitle>
      <p>{t("enrol.for", { name: info.display_name, username: info.username })}</p>
      <form onSubmit={complete} noValidate>
        <input type="text" name="username" value={info.username} autocomplete="username" hidden readOnly />
        <Field name="password" label={t("enrol.password")} hint={t("enrol.password_hint")} type="password" value={password} onInput={setPassword} autoComplete="new-password" required dir="ltr" />
        <Field name="password-again" label={t("enrol.password_again")} type="password" value={again} onInput={setAgain} autoComplete="new-password" required dir="ltr" />
        {info.totp_required && info.otpauth_uri && info.totp_secret && (
          <fieldset>
            <legend>{t("enrol.totp_title")}</legend>
            <TotpSetup uri={info.otpauth_uri} secret={info.totp_secret} code={totp} onCode={setTotp} />
          </fieldset>
        )}
        <ErrorLine error={error} />
        <button type="submit" disabled={busy}>
          {t("enrol.submit")}
        </button>
      </form>
    </section>
  );
}
