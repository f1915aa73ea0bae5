/** The account's devices (each holds at most one session), revocation, and TOTP set-up. */
import { useLocation } from "preact-iso";
import { useEffect, useState } from "preact/hooks";
import type { DeviceRead, RevokedRead, TotpSetupRead, UserRead } from "../api/types";
import { ErrorLine, Field, Notice, ScreenTitle } from "../app/ui";
import { type Described, describeError, formatDate, t } from "../i18n";
import { authed, endedEverywhere, logout, session, updateUser } from "./session";
import { TotpSetup } from "./TotpSetup";

export function SessionsScreen() {
  const { route } = useLocation();
  const [devices, setDevices] = useState<DeviceRead[] | null>(null);
  const [error, setError] = useState<Described | null>(null);
  const current = session.value;

  async function load() {
    try {
      setDevices(await authed<DeviceRead[]>("GET", "/devices"));
    } catch (failure) {
      setError(describeError(failure));
    }
  }
  useEffect(() => void load(), []);

  async function revoke(device: DeviceRead) {
    setError(null);
    try {
      await authed<DeviceRead>("POST", `/devices/${device.id}/revoke`);
      if (device.id === current?.deviceId) {
        await logout();
        route("/login", true);
        return;
      }
      await load();
    } catch (failure) {
      setError(describeError(failure));
    }
  }

  async function revokeAll() {
    setError(null);
    try {
      await authed<RevokedRead>("POST", "/auth/sessions/revoke-all");
      endedEverywhere();
      route("/login", true);
    } catch (failure) {
      setError(describeError(failure));
    }
  }

  return (
    <section>
      <ScreenTitle>{t("sessions.title")}</ScreenTitle>
      <p>{t("sessions.explain")}</p>
      <p>
        {t("sessions.lost_device")} <a href="/devices">{t("sessions.lost_device_link")}</a>
      </p>
      <ErrorLine error={error} />
      {devices === null ? (
        <p>{t("app.loading")}</p>
      ) : devices.length === 0 ? (
        <p>{t("sessions.empty")}</p>
      ) : (
        <ul class="devices">
          {devices.map((device) => (
            <li key={device.id} class={device.revoked_at ? "device revoked" : "device"}>
              <div>
                <strong>{device.name}</strong>
                {device.id === current?.deviceId && <span class="badge">{t("sessions.this_device")}</span>}
                <p class="meta">
                  {t("sessions.created", { date: formatDate(device.created_at) })}
                  {" · "}
                  {device.revoked_at
                    ? t("sessions.revoked", { date: formatDate(device.revoked_at) })
                    : device.last_seen_at
                      ? t("sessions.last_seen", { date: formatDate(device.last_seen_at) })
                      : t("sessions.never_seen")}
                </p>
              </div>
              {!device.revoked_at && (
                <button type="button" class="secondary" aria-label={t("sessions.revoke_named", { name: device.name })} onClick={() => void revoke(device)}>
                  {t("sessions.revoke")}
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      <div class="danger-zone">
        <p id="revoke-all-explain">{t("sessions.revoke_all_explain")}</p>
        <button type="button" class="danger" aria-describedby="revoke-all-explain" onClick={() => void revokeAll()}>
          {t("sessions.revoke_all")}
        </button>
      </div>
      <TotpSection />
    </section>
  );
}

/** Turn TOTP on for an account that enrolled without it (administrators enrol with it). */
function TotpSection() {
  const user = session.value?.user;
  const [pending, setPending] = useState<TotpSetupRead | null>(null);
  const [code, setCode] = useState("");
  const [done, setDone] = useState(false);
  const [error, setError] = useState<Described | null>(null);
  if (!user) return null;

  async function start() {
    setError(null);
    try {
      setPending(await authed<TotpSetupRead>("POST", "/auth/totp/setup"));
    } catch (failure) {
      setError(describeError(failure));
    }
  }

  async function confirm(event: Event) {
    event.preventDefault();
    setError(null);
    try {
      updateUser(await authed<UserRead>("POST", "/auth/totp/confirm", { body: { code: code.trim() } }));
      setPending(null);
      setDone(true);
    } catch (failure) {
      setError(describeError(failure));
    }
  }

  return (
    <section class="card" aria-labelledby="totp-title">
      <h2 id="totp-title">{t("totp.title")}</h2>
      {done && <Notice>{t("totp.done")}</Notice>}
      {user.totp_enabled ? (
        !done && <p>{t("totp.on")}</p>
      ) : pending ? (
        <form onSubmit={confirm} noValidate>
          <TotpSetup uri={pending.otpauth_uri} secret={pending.secret} code={code} onCode={setCode} />
          <ErrorLine error={error} />
          <div class="actions">
            <button type="submit">{t("totp.confirm")}</button>
            <button type="button" class="secondary" onClick={() => setPending(null)}>
              {t("common.cancel")}
            </button>
          </div>
        </form>
      ) : (
        <>
          <p>{t("totp.off")}</p>
          <ErrorLine error={error} />
          <button type="button" onClick={() => void start()}>
            {t("totp.start")}
          </button>
        </>
      )}
    </section>
  );
}
