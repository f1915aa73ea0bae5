/** Key verification for one group (PROTOCOL §3.4): the pinned root's 60 digits and QR to
 * compare out of band, a compare box, and, on a device that has not pinned the root yet
 * (a linked device), pinning by the fingerprint shown on the first device. */
import { useState } from "preact/hooks";
import { ErrorLine } from "../app/ui";
import { BindingError } from "../crypto";
import type { Described } from "../i18n";
import { reconnectFeed, vault } from "../feed/unlock";
import { describeTrust } from "./describe";
import { comparePinned, pinByFingerprint, rootCodes } from "./linking";
import { m } from "./messages";
import { Qr } from "./Qr";
import { CodeField } from "./Scanner";
import "./devices.css";

export function VerifyGroupKey({ groupId }: { groupId: string }) {
  const codes = rootCodes(vault.value!, groupId);
  const [compared, setCompared] = useState("");
  const [verdict, setVerdict] = useState<boolean | null>(null);
  if (!codes) return null;
  return (
    <details class="card verify">
      <summary>{m("verify_title")}</summary>
      <p>{m("verify_intro")}</p>
      <p>
        {m("fingerprint")}:{" "}
        <code class="digits" dir="ltr" data-testid="root-fingerprint">
          {codes.digits}
        </code>
      </p>
      <Qr payload={codes.qr} label={m("fingerprint_qr")} />
      <form
        onSubmit={(event) => {
          event.preventDefault();
          setVerdict(comparePinned(vault.value!, groupId, compared));
        }}
      >
        <CodeField name="compare" label={m("compare")} hint={m("compare_hint")} value={compared} onInput={(v) => (setCompared(v), setVerdict(null))} multiline />
        <button type="submit" disabled={!compared.trim()}>
          {m("compare_submit")}
        </button>
      </form>
      {verdict !== null && (
        <p class={verdict ? "verdict match" : "verdict mismatch"} role={verdict ? "status" : "alert"}>
          {m(verdict ? "match" : "mismatch")}
        </p>
      )}
    </details>
  );
}

export function PinGroupKey({ groupId, onPinned }: { groupId: string; onPinned: () => void }) {
  const [compared, setCompared] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Described | null>(null);
  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await pinByFingerprint(vault.value!, groupId, compared);
      reconnectFeed(); // the group's waiting items are verified now
      onPinned();
    } catch (failure) {
      setError(failure instanceof BindingError ? { message: m("pin_mismatch"), code: failure.code } : describeTrust(failure));
    } finally {
      setBusy(false);
    }
  }
  return (
    <form class="card" onSubmit={submit} aria-labelledby="pin-title">
      <h3 id="pin-title">{m("pin_title")}</h3>
      <p>{m("pin_intro")}</p>
      <CodeField name="pin" label={m("compare")} hint={m("compare_hint")} value={compared} onInput={setCompared} multiline />
      <ErrorLine error={error} />
      <button type="submit" disabled={busy || !compared.trim()}>
        {m("pin_submit")}
      </button>
    </form>
  );
}
