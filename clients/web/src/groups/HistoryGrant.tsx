/** The coordinator's "share earlier history" card in the group screen's Manage section (§9.1). */
import { useEffect, useState } from "preact/hooks";
import { ErrorLine } from "../app/ui";
import { session } from "../auth/session";
import { GRANT_SCOPES, type Roster } from "../crypto";
import { describeTrust } from "../devices/describe";
import { liveFeed } from "../feed/unlock";
import type { Described } from "../i18n";
import { type DirectoryEntry, fetchDirectory } from "./directory";
import { grantHistory } from "./history";
import { g } from "./messages";

export function HistoryGrantCard({ groupId, roster }: { groupId: string; roster: Roster }) {
  const me = session.value!.user.id;
  const others = [...roster.members.keys()].filter((id) => id !== me);
  const [names, setNames] = useState<Map<string, DirectoryEntry>>(new Map());
  const [member, setMember] = useState(others[0] ?? "");
  const [scope, setScope] = useState<string>(GRANT_SCOPES[0]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Described | null>(null);
  const [done, setDone] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    void fetchDirectory(groupId, roster.members.keys()).then((found) => live && setNames(found));
    return () => {
      live = false;
    };
  }, [groupId, roster]);
  const label = (id: string) => names.get(id)?.displayName ?? names.get(id)?.username ?? id;
  if (!others.length) return null;
  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      const channel = await liveFeed()!.channel(groupId);
      const count = await grantHistory(channel, me, member, scope);
      setDone(g("history_done", { name: label(member), count: String(count) }));
    } catch (failure) {
      setError(describeTrust(failure));
    } finally {
      setBusy(false);
    }
  }
  return (
    <form class="card" onSubmit={(e) => void submit(e)} data-testid="history-grant">
      <h3>{g("history_title")}</h3>
      <p>{g("history_hint")}</p>
      <ErrorLine error={error} />
      <label for="history-member">{g("history_member")}</label>
      <select id="history-member" value={member} onChange={(e) => setMember((e.currentTarget as HTMLSelectElement).value)}>
        {others.map((id) => (
          <option key={id} value={id} dir="auto">
            {label(id)}
          </option>
        ))}
      </select>
      <label for="history-scope">{g("history_scope")}</label>
      <select id="history-scope" value={scope} onChange={(e) => setScope((e.currentTarget as HTMLSelectElement).value)}>
        {GRANT_SCOPES.map((s) => (
          <option key={s} value={s}>
            {g(s === "cases" ? "history_scope_cases" : "history_scope_prenotifications")}
          </option>
        ))}
      </select>
      <button type="submit" disabled={busy || !member}>
        {g("history_submit")}
      </button>
      {done && <p role="status">{done}</p>}
    </form>
  );
}
