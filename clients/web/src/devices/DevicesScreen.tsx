/**
 * Devices and keys (route `/devices`): a new device shows its link code (text and QR); the
 * device holding the member key links it into every group by scanning or typing that code;
 * the member safety number for the coordinator's fallback check. A lazy chunk.
 */
import { useEffect, useState } from "preact/hooks";
import { ErrorLine, ScreenTitle } from "../app/ui";
import { session } from "../auth/session";
import { BindingError } from "../crypto";
import { KeystoreGate, vault } from "../feed/unlock";
import { type Described, formatDate } from "../i18n";
import { Confirm } from "./Confirm";
import { describeTrust } from "./describe";
import { type LinkOutcome, linkEverywhere, myLinkCode, mySafetyNumber } from "./linking";
import { m } from "./messages";
import { Qr } from "./Qr";
import { type MyDevice, myDevices, type RevokeOutcome, revokeMyDevice } from "./revoke";
import { CodeField } from "./Scanner";
import "./devices.css";

function LinkThisDevice() {
  const code = myLinkCode(vault.value!, session.value!.user.id);
  return (
    <section class="card" aria-labelledby="link-code-title">
      <h2 id="link-code-title">{m("link_code_title")}</h2>
      <p>{m("link_code_hint")}</p>
      <Qr payload={code} label={m("link_code_qr")} />
      <p>
        {m("link_code_label")}:{" "}
        <code class="code" dir="ltr" data-testid="link-code">
          {code}
        </code>
      </p>
    </section>
  );
}

function LinkNewDevice() {
  const [code, setCode] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Described | null>(null);
  const [outcomes, setOutcomes] = useState<LinkOutcome[] | null>(null);
  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setOutcomes(null);
    try {
      setOutcomes(await linkEverywhere(vault.value!, code, session.value!.user.id));
    } catch (failure) {
      setError(describeTrust(failure));
    } finally {
      setBusy(false);
    }
  }
  return (
    <form class="card" onSubmit={submit} aria-labelledby="link-title">
      <h2 id="link-title">{m("link_title")}</h2>
      <p>{m("link_hint")}</p>
      <CodeField name="link-code" label={m("link_code")} hint={m("link_code_field_hint")} value={code} onInput={setCode} />
      <ErrorLine error={error} />
      <button type="submit" disabled={busy || !code.trim()}>
        {m("link_submit")}
      </button>
      {outcomes && (
        <div role="status">
        <ul class="outcomes">
          {outcomes.length === 0 && <li>{m("no_groups")}</li>}
          {outcomes.map((o) => (
            <li key={o.groupId} data-outcome={o.outcome}>
              {o.outcome === "failed"
                ? o.error instanceof BindingError
                  ? m("link_binding", { group: o.name })
                  : m("failed", { group: o.name, reason: describeTrust(o.error).message })
                : m(o.outcome === "linked" ? "linked" : o.outcome === "already" ? "already" : "not_pinned_group", { group: o.name })}
            </li>
          ))}
          {outcomes.map(({ groupId, name, history }) => history && (
            <li key={`${groupId}-history`} data-history={"sent" in history ? "sent" : "failed"}>
              {"sent" in history ? m("history_sent", { group: name, count: String(history.sent) }) : m("history_failed", { group: name, reason: describeTrust(history.error).message })}
            </li>
          ))}
        </ul>
        </div>
      )}
    </form>
  );
}

function SafetyNumber() {
  const codes = mySafetyNumber(vault.value!, session.value!.user.id);
  if (!codes) return null;
  return (
    <section class="card" aria-labelledby="safety-title">
      <h2 id="safety-title">{m("safety_title")}</h2>
      <p>{m("safety_hint")}</p>
      <p>
        <code class="digits" dir="ltr" data-testid="safety-number">
          {codes.digits}
        </code>
      </p>
      <Qr payload={codes.qr} label={m("safety_qr")} />
    </section>
  );
}

/** The account's devices (`GET /devices`); the member-key device revokes a lost one. */
function MyDevices() {
  const v = vault.value!;
  const [devices, setDevices] = useState<MyDevice[] | null>(null);
  const [asking, setAsking] = useState<MyDevice | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Described | null>(null);
  const [outcomes, setOutcomes] = useState<RevokeOutcome[] | null>(null);
  const load = () => myDevices().then(setDevices, (failure: unknown) => setError(describeTrust(failure)));
  useEffect(() => void load(), []);
  async function revoke(device: MyDevice) {
    setBusy(true);
    setError(null);
    setOutcomes(null);
    try {
      setOutcomes(await revokeMyDevice(v, session.value!.user.id, device.id));
      setAsking(null);
      await load();
    } catch (failure) {
      setError(describeTrust(failure));
    } finally {
      setBusy(false);
    }
  }
  const canRevoke = v.data.memberKey !== null;
  return (
    <section class="card" aria-labelledby="my-devices-title">
      <h2 id="my-devices-title">{m("devices_title")}</h2>
      <p>{m("devices_hint")}</p>
      {!canRevoke && <p class="hint">{m("revoke_needs_key")}</p>}
      <ErrorLine error={error} />
      <ul class="my-devices" aria-label={m("devices_list")}>
        {devices?.map((d) => (
          <li key={d.id} data-device={d.id} data-revoked={d.revoked_at ? "true" : "false"}>
            <span dir="auto">
              <strong>{d.name}</strong> <code dir="ltr">{d.id.slice(0, 8)}</code>
            </span>{" "}
            <span>
              {d.id === v.deviceId
                ? m("device_current")
                : d.revoked_at
                  ? m("device_revoked", { date: formatDate(d.revoked_at) })
                  : `${m("device_added", { date: formatDate(d.created_at) })}${d.last_seen_at ? `, ${m("device_seen", { date: formatDate(d.last_seen_at) })}` : ""}`}
            </span>
            {canRevoke && d.id !== v.deviceId && !d.revoked_at && (
              <button type="button" class="danger" disabled={busy} aria-label={m("revoke_named", { name: d.name, date: formatDate(d.created_at) })} onClick={() => setAsking(d)}>
                {m("revoke")}
              </button>
            )}
            {asking?.id === d.id && (
              <Confirm id={`revoke-${d.id}`} title={m("confirm_title", { name: d.name })} body={m("confirm_body")} confirm={m("confirm_yes")} cancel={m("confirm_no")} busy={busy} onConfirm={() => void revoke(d)} onCancel={() => setAsking(null)} />
            )}
          </li>
        ))}
      </ul>
      {outcomes && (
        <div role="status">
          <p>{m("revoke_done")}</p>
          <ul class="outcomes">
            {outcomes.map((o) => (
              <li key={o.groupId} data-outcome={o.outcome}>
                {o.outcome === "failed"
                  ? m("revoke_failed", { group: o.name, reason: describeTrust(o.error).message })
                  : m(o.outcome === "revoked" ? "revoked_in" : o.outcome === "not_there" ? "revoke_not_there" : "not_pinned_group", { group: o.name })}
              </li>
            ))}
          </ul>
        </div>
      )}
    </section>
  );
}

export function DevicesScreen() {
  const v = vault.value;
  return (
    <section>
      <ScreenTitle>{m("title")}</ScreenTitle>
      <p>{m("intro")}</p>
      {!v ? (
        <KeystoreGate />
      ) : (
        <>
          <h2>{m("this_device")}</h2>
          <p class="notice" data-testid="device-kind">
            {m(v.data.memberKey ? "holds_member_key" : "is_linked_device")}
          </p>
          {v.data.memberKey ? (
            <>
              <LinkNewDevice />
              <SafetyNumber />
            </>
          ) : (
            <LinkThisDevice />
          )}
          <MyDevices />
        </>
      )}
    </section>
  );
}
