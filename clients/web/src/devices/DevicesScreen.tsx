/**
 * Devices and keys (route `/devices`): a new device shows its link code (text and QR); the
 * device holding the member key links it into every group by scanning or typing that code;
 * the member safety number for the coordinator's fallback check. A lazy chunk.
 */
import { useState } from "preact/hooks";
import { ErrorLine, ScreenTitle } from "../app/ui";
import { session } from "../auth/session";
import { BindingError } from "../crypto";
import { KeystoreGate, vault } from "../feed/unlock";
import { type Described } from "../i18n";
import { describeTrust } from "./describe";
import { type LinkOutcome, linkEverywhere, myLinkCode, mySafetyNumber } from "./linking";
import { m } from "./messages";
import { Qr } from "./Qr";
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
        </>
      )}
    </section>
  );
}
