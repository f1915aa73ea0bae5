/**
 * In a group's Manage section: add a member without an invitation, by the safety number they
 * read out (or their QR code), as `cordon group add GROUP USER --fingerprint …` does.
 */
import { useState } from "preact/hooks";
import { ErrorLine, Field } from "../app/ui";
import { session } from "../auth/session";
import { BindingError } from "../crypto";
import { vault } from "../feed/unlock";
import type { Described } from "../i18n";
import { admitByNumber } from "./admitByNumber";
import { describeTrust } from "./describe";
import { m } from "./messages";
import { CodeField } from "./Scanner";

export function AdmitByNumber({ groupId, onChanged }: { groupId: string; onChanged: () => Promise<void> }) {
  const [who, setWho] = useState("");
  const [number, setNumber] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Described | null>(null);
  const [done, setDone] = useState<string | null>(null);
  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setDone(null);
    const name = who.trim();
    try {
      await admitByNumber(vault.value!, groupId, session.value!.user.id, name, number);
      setDone(m("number_admitted", { name }));
      setWho("");
      setNumber("");
      await onChanged();
    } catch (failure) {
      setError(failure instanceof BindingError ? { message: m("number_mismatch", { name }), code: failure.code } : describeTrust(failure));
    } finally {
      setBusy(false);
    }
  }
  return (
    <form class="card" onSubmit={submit} aria-labelledby="by-number-title">
      <h3 id="by-number-title">{m("number_title")}</h3>
      <p>{m("number_hint")}</p>
      <Field name="by-number-user" label={m("number_user")} value={who} onInput={setWho} dir="ltr" />
      <CodeField name="by-number-digits" label={m("number_digits")} hint={m("number_digits_hint")} value={number} onInput={setNumber} />
      <ErrorLine error={error} />
      <button type="submit" disabled={busy || !who.trim() || !number.trim()}>
        {m("number_submit")}
      </button>
      {done && <p role="status">{done}</p>}
    </form>
  );
}
