/**
 * The blocking warning for a refused membership log (PROTOCOL §4.6–4.7), shared by the group
 * page and the alert feed: what happened in plain words by kind (a rollback, a fork that froze
 * the group, any other refused list), then the stable code and the exact refusal for support.
 * On the group page a frozen group also gets the way out the protocol defines: compare the
 * head with the coordinator out of band, type the confirmed epoch, and the served log must end
 * exactly there (`resolveFork`).
 */
import type { ComponentChildren } from "preact";
import { useMemo, useState } from "preact/hooks";
import { ErrorLine, Field } from "../app/ui";
import { GroupFrozenError, LogError } from "../crypto";
import { describeTrust } from "../devices/describe";
import { frozenBy, resolveFork, verifiedHead } from "../feed/engine";
import type { Vault } from "../feed/vault";
import type { Described } from "../i18n";
import { g } from "./messages";

/** A refusal of the group's log itself (not of one item): nothing of the group may be used. */
export const isLogRefusal = (error: unknown): boolean => error instanceof LogError || error instanceof GroupFrozenError;

const KINDS = {
  "crypto.log_rollback": ["rollback_title", "rollback_body"],
  "crypto.fork": ["frozen_title", "frozen_body"],
  "crypto.group_frozen": ["frozen_title", "frozen_body"],
} as const;

export function TrustRefused({ error, children }: { error: Described; children?: ComponentChildren }) {
  const [title, body] = KINDS[error.code as keyof typeof KINDS] ?? (["refused_title", "refused_body"] as const);
  return (
    <div class="trust-refused" role="alert" data-testid="roster-refused" data-code={error.code}>
      <h2>{g(title)}</h2>
      <p>{g(body)}</p>
      <p class="code" dir="ltr">
        {error.code}: {error.message}
      </p>
      {children}
    </div>
  );
}

/** Shown on a frozen group's page: this device's head, the proof to hand on, the resolution. */
export function ResolveFork({ vault, groupId, onResolved }: { vault: Vault; groupId: string; onResolved: (seq: number) => void }) {
  const [epoch, setEpoch] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Described | null>(null);
  const head = verifiedHead(vault, groupId);
  const record = frozenBy(vault, groupId);
  const proofUrl = useMemo(() => (record ? URL.createObjectURL(new Blob([JSON.stringify(record.proof, null, 2)], { type: "application/json" })) : null), [record?.reason]);
  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onResolved(await resolveFork(vault, groupId, epoch));
    } catch (failure) {
      setError(describeTrust(failure));
    } finally {
      setBusy(false);
    }
  }
  return (
    <form class="card" onSubmit={submit} aria-labelledby="resolve-title">
      <h3 id="resolve-title">{g("resolve_title")}</h3>
      {head && <p data-testid="verified-head">{g("head_line", { seq: String(head.seq), epoch: head.epoch })}</p>}
      {proofUrl && record?.proof != null && (
        <p>
          <a href={proofUrl} download={`fork-proof-${groupId}.json`}>
            {g("proof_download")}
          </a>
        </p>
      )}
      <Field name="epoch" label={g("resolve_label")} hint={g("resolve_hint")} value={epoch} onInput={setEpoch} dir="ltr" autoComplete="off" required />
      <ErrorLine error={error} />
      <button type="submit" disabled={busy || !epoch.trim()}>
        {g("resolve_submit")}
      </button>
    </form>
  );
}
