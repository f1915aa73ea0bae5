/** Taking part in groups from this browser: the keystore set-up or unlock, joining with an
 * invitation, the verified roster, and the live alert feed with sending. */
import { useEffect, useState } from "preact/hooks";
import { ErrorLine, Field, Notice, ScreenTitle } from "../app/ui";
import { session } from "../auth/session";
import { casesMsg } from "../cases/messages";
import { memberSafetyNumber, type Roster } from "../crypto";
import { m as devicesText } from "../devices/messages";
import { type Described, formatDate, t } from "../i18n";
import { certifySelf, type GroupSummary, isPinned, listGroups, requestJoin, rootFingerprint, sendRead } from "./engine";
import { items, keepSent, markRead } from "./live";
import { fetchNames, memberLabel, type MemberName } from "./names";
import { describe, KeystoreGate, LinkBanner, liveFeed, vault } from "./unlock";

function JoinForm({ onJoined }: { onJoined: () => void }) {
  const v = vault.value!;
  const [text, setText] = useState("");
  const [error, setError] = useState<Described | null>(null);
  const [busy, setBusy] = useState(false);
  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await requestJoin(v, text, session.value!.user.id);
      setText("");
      onJoined();
    } catch (failure) {
      setError(describe(failure));
    } finally {
      setBusy(false);
    }
  }
  return (
    <form onSubmit={submit} class="card">
      <h2>{t("feed.join_title")}</h2>
      <Field name="invitation" label={t("feed.invitation")} hint={t("feed.invitation_hint")} value={text} onInput={setText} dir="ltr" required />
      <ErrorLine error={error} />
      <button type="submit" disabled={busy}>
        {t("feed.join_submit")}
      </button>
    </form>
  );
}

function RosterView({ roster, groupId }: { roster: Roster; groupId: string }) {
  const me = session.value!.user.id;
  // Rows come from the verified log only; the server's listing just names them.
  const [names, setNames] = useState<Map<string, MemberName>>(new Map());
  useEffect(() => {
    let live = true;
    void fetchNames(groupId, roster.members.keys()).then((found) => live && setNames(found));
    return () => {
      live = false;
    };
  }, [groupId, roster]);
  return (
    <table class="roster">
      <caption>{t("feed.roster")}</caption>
      <thead>
        <tr>
          <th scope="col">{t("feed.member")}</th>
          <th scope="col">{t("feed.role")}</th>
          <th scope="col">{t("feed.devices")}</th>
          <th scope="col">{t("feed.safety_number")}</th>
        </tr>
      </thead>
      <tbody>
        {[...roster.members.values()].map((m) => (
          <tr key={m.memberId} data-member={m.memberId}>
            <td dir="auto" title={m.memberId}>
              {m.memberId === me ? t("feed.you") : memberLabel(m.memberId, names.get(m.memberId))}
            </td>
            <td>{m.role}</td>
            <td>{m.devices.size}</td>
            <td dir="ltr" class="code">
              {memberSafetyNumber(m.memberId, m.memberKey)}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function GroupView({ group }: { group: GroupSummary }) {
  const v = vault.value!;
  const [roster, setRoster] = useState<Roster | null>(null);
  const [stage, setStage] = useState<"loading" | "not_pinned" | "not_admitted" | "not_linked" | "ready">("loading");
  const [text, setText] = useState("");
  const [urgent, setUrgent] = useState(false);
  const [error, setError] = useState<Described | null>(null);
  const [busy, setBusy] = useState(false);

  async function load() {
    setError(null);
    if (!isPinned(v, group.id)) return setStage("not_pinned");
    try {
      const outcome = await certifySelf(v, group.id, session.value!.user.id);
      if (outcome === "not_admitted" || outcome === "not_linked") return setStage(outcome);
      const channel = await liveFeed()!.channel(group.id);
      await channel.refresh();
      setRoster(channel.session.roster);
      setStage("ready");
    } catch (failure) {
      setError(describe(failure));
    }
  }
  useEffect(() => void load(), [group.id]);

  async function send(event: Event) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const channel = await liveFeed()!.channel(group.id);
      const seq = await channel.sendAlert(text, urgent);
      await keepSent(v, { seq, groupId: group.id, urgent, senderUserId: session.value!.user.id, createdAt: new Date().toISOString(), text, refused: null, mine: true });
      setText("");
      setUrgent(false);
    } catch (failure) {
      setError(describe(failure));
    } finally {
      setBusy(false);
    }
  }

  const shown = items.value.filter((i) => i.groupId === group.id).sort((a, b) => b.seq - a.seq);
  const unread = shown.filter((i) => i.ref && !i.mine && !i.read && i.refused === null);
  useEffect(() => {
    if (!unread.length) return;
    // Shown on screen: tell the senders it was read (a failure is retried on the next render).
    sendRead(v, unread)
      .then(() => markRead(v, new Set(unread.map((i) => `${i.groupId}/${i.seq}`))))
      .catch(() => undefined);
  }, [unread.map((i) => i.seq).join(",")]);
  return (
    <section aria-labelledby="group-title" class="group">
      <h2 id="group-title">{group.name}</h2>
      <p>
        {t("feed.status")}: {group.status} · {t("feed.role")}: {group.my_role}
      </p>
      {rootFingerprint(v, group.id) && (
        <p>
          {t("feed.fingerprint")}:{" "}
          <code dir="ltr" data-testid="fingerprint">
            {rootFingerprint(v, group.id)}
          </code>
        </p>
      )}
      <ErrorLine error={error} />
      {stage === "not_pinned" && (
        <>
          <Notice>{t("feed.not_pinned")}</Notice>
          {/* A linked device has no invitation: it pins the key on the group's screen. */}
          <p>
            <a href={`/groups/${group.id}`}>{devicesText("pin_title")}</a>
          </p>
        </>
      )}
      {stage === "not_linked" && (
        <p class="notice" role="status">
          <a href="/devices">{devicesText("not_certified")}</a>
        </p>
      )}
      {stage === "not_admitted" && (
        <div>
          <Notice>{t("feed.waiting_admission")}</Notice>
          <button type="button" onClick={() => void load()}>
            {t("feed.check_again")}
          </button>
        </div>
      )}
      {stage === "ready" && roster && (
        <>
          <RosterView roster={roster} groupId={group.id} />
          <form onSubmit={send} class="card send">
            <label for="alert-text">{t("feed.alert_text")}</label>
            <textarea id="alert-text" name="alert" value={text} required maxLength={4000} onInput={(e) => setText((e.currentTarget as HTMLTextAreaElement).value)} />
            <label class="check">
              <input type="checkbox" name="urgent" checked={urgent} onChange={(e) => setUrgent((e.currentTarget as HTMLInputElement).checked)} /> {t("feed.urgent")}
            </label>
            <button type="submit" disabled={busy || !text.trim()}>
              {t("feed.send")}
            </button>
          </form>
        </>
      )}
      <ol class="feed" aria-label={t("feed.alerts")} aria-live="polite">
        {shown.map((item) =>
          item.refused !== null ? (
            <li key={`${item.seq}`} class="item refused" data-seq={item.seq}>
              <div role="alert">
                <strong>{t("feed.refused_title", { seq: String(item.seq) })}</strong>
                <p>{t("feed.refused_body")}</p>
                <p class="code" dir="ltr">
                  {item.refused}
                </p>
              </div>
            </li>
          ) : (
            <li key={`${item.seq}`} class={item.urgent ? "item urgent" : "item"} data-seq={item.seq} data-urgent={item.urgent ? "true" : "false"}>
              {item.urgent && <strong class="badge">{t("feed.urgent_badge")}</strong>}
              {item.record ? (
                <p class="text">
                  <a href={`/cases?group=${item.groupId}&seq=${item.seq}`}>{casesMsg("cases.in_feed")}</a>
                </p>
              ) : (
                <p class="text">{item.text}</p>
              )}
              <p class="meta">
                {item.mine ? t("feed.you") : item.senderUserId} · {item.createdAt && formatDate(item.createdAt)}
              </p>
            </li>
          ),
        )}
      </ol>
    </section>
  );
}

function Groups() {
  const [groups, setGroups] = useState<GroupSummary[] | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [error, setError] = useState<Described | null>(null);
  async function load() {
    try {
      setGroups(await listGroups());
    } catch (failure) {
      setError(describe(failure));
    }
  }
  useEffect(() => void load(), []);
  const group = groups?.find((g) => g.id === selected) ?? null;
  return (
    <div class="feed-layout">
      <nav aria-label={t("feed.groups")}>
        <h2>{t("feed.groups")}</h2>
        <ErrorLine error={error} />
        {groups && groups.length === 0 && <p>{t("feed.no_groups")}</p>}
        <ul>
          {groups?.map((g) => (
            <li key={g.id}>
              <button type="button" class="group-pick" aria-current={g.id === selected ? "true" : undefined} onClick={() => setSelected(g.id)}>
                {g.name}
              </button>
            </li>
          ))}
        </ul>
        <JoinForm
          onJoined={() => {
            void load();
          }}
        />
      </nav>
      {group && <GroupView key={group.id} group={group} />}
    </div>
  );
}

export function FeedScreen() {
  return (
    <section>
      <ScreenTitle>{t("feed.title")}</ScreenTitle>
      {vault.value ? (
        <>
          <LinkBanner />
          <Groups />
        </>
      ) : (
        <KeystoreGate />
      )}
    </section>
  );
}
