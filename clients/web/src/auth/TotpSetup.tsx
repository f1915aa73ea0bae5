/**
 * Turning TOTP on, as enrolment and the sessions screen both ask for it: what to do, the QR
 * code, the seed as text, and the first code. The QR encoder (`uqr`) is its own chunk, fetched
 * when this is shown rather than with the login screen.
 */
import { lazy } from "preact-iso";
import { Field } from "../app/ui";
import { t } from "../i18n";

const TotpQr = lazy(() => import("./TotpQr").then((m) => m.TotpQr));

export function TotpSetup({ uri, secret, code, onCode }: { uri: string; secret: string; code: string; onCode: (value: string) => void }) {
  return (
    <>
      <p>{t("enrol.totp_explain")}</p>
      <TotpQr uri={uri} label={t("enrol.qr_label")} />
      <p>
        {t("enrol.totp_secret")}: <code class="secret" dir="ltr" data-testid="totp-secret">{secret}</code>
      </p>
      <Field name="totp" label={t("enrol.totp_code")} value={code} onInput={onCode} autoComplete="one-time-code" inputMode="numeric" pattern="[0-9]{6}" maxLength={6} required dir="ltr" />
    </>
  );
}
