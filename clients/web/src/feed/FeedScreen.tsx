/** Taking part in groups from this browser: the keystore set-up or unlock, joining with an
 * invitation, the verified roster, and the live alert feed with sending. */
import { useCallback, useEffect, useLayoutEffect, useMemo, useState } from "preact/hooks";
import { ErrorLine, Field, Notice, ScreenTitle } from "../app/ui";
import { VirtualList } from "../app/VirtualList";
import { session } from "../auth/session";
import { casesMsg } from "../cases/messages";
import { memberSafetyNumber, type Roster } from "../crypto";
import { m as devicesText } from "../devices/messages";
import { type Described, formatDate, t } from "../i18n";
import { useDraft } from "../storage/drafts";
import { certifySelf, type FeedItem, type GroupSummary, isPinned, listGroups, requestJoin, rootFingerprint, sendRead } from "./engine";
import { groupsTick, itemAt, itemKey, items, keepSent, markRead } from "./live";
import { t as m } from "./messages";
import { askPermission, permission } from "./notify";
import { isUnread, type Thread, ThreadIndex, UnreadIndex } from "./threads";
import { fetchNames, memberLabel, type MemberName } from "./names";
import { describe, KeystoreGate, LinkBanner, liveFeed, vault } from "./unlock";
import { describeTrust } from "../devices/describe";
import { g as groupText } from "../groups/messages";
import { isLogRefusal, TrustRefused } from "../groups/TrustRefused";

/** Ask for system notifications from a click (never on load). */
function NotifyChoice() {
  const state = permission.value;
  if (state === "unsupported") return null;
  if (state === "granted") return <p class="hint">{m("notify_on")}</p>;
  if (state === "denied") return <p class="hint">{m("notify_denied")}</p>;
  return (
    <button type="button" class="secondary" onClick={() => void askPermission()}>
      {m("notify_enable")}
    </button>
  );
}

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

function RosterView({ roster, names }: { roster: Roster; names: Map<string, MemberName> }) {
  const me = session.value!.user.id;
  // Rows come from the verified log only; the server's listing just names them. Safety
  // numbers cost 5,200 SHA-512 rounds each: once per roster, not once per render.
  const safety = useMemo(() => [...roster.members.values()].map((m) => [m, memberSafetyNumber(m.memberId, m.memberKey)] as const), [roster]);
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
        {safety.map(([m, number]) => (
          <tr key={m.memberId} data-member={m.memberId}>
            <td dir="auto" title={m.memberId}>
              {m.memberId === me ? t("feed.you") : memberLabel(m.memberId, names.get(m.memberId))}
            </td>
            <td>{m.role}</td>
            <td>{m.devices.size}</td>
            <td dir="ltr" class="code">
              {number}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

interface AlertDraft {
  text: string;
  urgent: boolean;
  replyTo: number | null;
}
const EMPTY_DRAFT: AlertDraft = { text: "", urgent: false, replyTo: null };

/** Measure frame arrival → the next paint after this item entered the DOM (a layout effect
 * runs right after the DOM commit; the first animation frame after it is painted), for
 * bench/feed_chromium.spec.ts. */
function usePaintMeasure(key: string) {
  useLayoutEffect(() => {
    const name = `cordon:frame:${key}`;
    if (!performance.getEntriesByName(name, "mark").length) return;
    requestAnimationFrame(() =>
      setTimeout(() => {
        performance.measure("cordon:frame-to-paint", { start: name, detail: key });
        performance.clearMarks(name);
      }, 0),
    );
  }, []);
}

function ReceiptList({ item, roster, names }: { item: FeedItem; roster: Roster; names: Map<string, MemberName> }) {
  const me = vault.value!.deviceId;
  const devices = roster.devices().filter((d) => d.deviceId !== me);
  if (!devices.length) return null;
  return (
    <ul class="receipts" aria-label={m("receipts", { seq: String(item.seq) })}>
      {devices.map((d) => {
        const got = item.receipts?.[d.deviceId];
        const status = got?.read ? "read" : got?.delivered ? "delivered" : "pending";
        return (
          <li key={d.deviceId} data-device={d.deviceId} data-receipt={status}>
            <span dir="auto">{memberLabel(d.memberId, names.get(d.memberId))}</span>: {m(status === "read" ? "receipt_read" : status === "delivered" ? "receipt_delivered" : "receipt_pending")}
          </li>
        );
      })}
    </ul>
  );
}

function ItemView({ item, onReply, roster, names, reply }: { item: FeedItem; onReply: (item: FeedItem) => void; roster: Roster | null; names: Map<string, MemberName>; reply: boolean }) {
  usePaintMeasure(itemKey(item.groupId, item.seq));
  if (item.refused !== null) {
    return (
      <article class="item refused" data-seq={item.seq}>
        <div role="alert">
          <strong>{t("feed.refused_title", { seq: String(item.seq) })}</strong>
          <p>{t("feed.refused_body")}</p>
          <p class="code" dir="ltr">
            {item.refused}
          </p>
        </div>
      </article>
    );
  }
  if (item.before) {
    return (
      <article class="item unreadable" data-seq={item.seq} data-before={item.before}>
        <p class="meta">{m(item.before === "joined" ? "before_joined" : "before_linked", { seq: String(item.seq) })}</p>
      </article>
    );
  }
  const who = item.mine ? t("feed.you") : item.senderUserId ? memberLabel(item.senderUserId, names.get(item.senderUserId)) : "";
  return (
    <article class={`item${item.urgent ? " urgent" : ""}${reply ? " reply" : ""}`} data-seq={item.seq} data-urgent={item.urgent ? "true" : "false"}>
      {item.urgent && <strong class="badge">{t("feed.urgent_badge")}</strong>}
      {item.record ? (
        <p class="text">
          <a href={`/cases?group=${item.groupId}&seq=${item.seq}`}>{casesMsg("cases.in_feed")}</a>
        </p>
      ) : (
        <p class="text" dir="auto">
          {item.text}
        </p>
      )}
      <p class="meta">
        #{item.seq} · <span dir="auto">{who}</span> · {item.createdAt && formatDate(item.createdAt)}
        {item.parentSeq != null && <> · {m("reply_to_unknown", { seq: String(item.parentSeq) })}</>}
      </p>
      {item.mine && roster && <ReceiptList item={item} roster={roster} names={names} />}
      {item.ref && (
        <button type="button" class="secondary small" onClick={() => onReply(item)} aria-label={`${m("reply")} #${item.seq}`}>
          {m("reply")}
        </button>
      )}
    </article>
  );
}

function GroupView({ group }: { group: GroupSummary }) {
  const v = vault.value!;
  const [roster, setRoster] = useState<Roster | null>(null);
  const [names, setNames] = useState<Map<string, MemberName>>(new Map());
  const [stage, setStage] = useState<"loading" | "not_pinned" | "not_admitted" | "not_linked" | "ready">("loading");
  const draft = useDraft<AlertDraft>(`feed/alert/${group.id}`, EMPTY_DRAFT);
  const { text, urgent, replyTo } = draft.value;
  const [error, setError] = useState<Described | null>(null);
  // The group's log itself was refused (rollback, fork, frozen): nothing of the group is shown.
  const [refusal, setRefusal] = useState<Described | null>(null);
  const failed = (failure: unknown) => (isLogRefusal(failure) ? setRefusal(describeTrust(failure)) : setError(describe(failure)));
  const [busy, setBusy] = useState(false);
  const [visible, setVisible] = useState<string[]>([]);
  const [shownNow, setShownNow] = useState(document.visibilityState === "visible");

  async function load() {
    setError(null);
    setRefusal(null);
    if (!isPinned(v, group.id)) return setStage("not_pinned");
    try {
      const outcome = await certifySelf(v, group.id, session.value!.user.id);
      if (outcome === "not_admitted" || outcome === "not_linked") return setStage(outcome);
      const channel = await liveFeed()!.channel(group.id);
      await channel.refresh();
      setRoster(channel.session.roster);
      setStage("ready");
      setNames(await fetchNames(group.id, channel.session.roster.members.keys()));
    } catch (failure) {
      failed(failure);
    }
  }
  useEffect(() => void load(), [group.id]);
  useEffect(() => {
    const seen = () => setShownNow(document.visibilityState === "visible");
    document.addEventListener("visibilitychange", seen);
    return () => document.removeEventListener("visibilitychange", seen);
  }, []);

  // Threads kept per push, not regrouped over every kept item (frame → paint at 10,000 items).
  const index = useMemo(() => new ThreadIndex(), [group.id]);
  const all = useMemo(() => index.update(items.value, group.id), [items.value, group.id]);
  // 5,200 SHA-512 rounds each: computed once, not on every item that arrives.
  const fingerprint = useMemo(() => rootFingerprint(v, group.id), [group.id, stage]);
  const parent = replyTo === null ? null : itemAt(group.id, replyTo);

  async function send(event: Event) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const channel = await liveFeed()!.channel(group.id);
      const sent = await channel.sendAlert(text, urgent, parent); // through LiveFeed.exclusive
      setRoster(channel.session.roster); // refreshed for the send: receipts list its devices
      await keepSent({ seq: sent.seq, groupId: group.id, urgent, senderUserId: session.value!.user.id, createdAt: new Date().toISOString(), text, refused: null, mine: true, ref: sent.ref, parentSeq: parent?.seq ?? null, receipts: {} });
      await draft.discard();
    } catch (failure) {
      failed(failure);
    } finally {
      setBusy(false);
    }
  }

  // Items on screen while the page is visible are read: tell their senders (signed receipts).
  const unread = shownNow ? visible.flatMap((key) => index.get(key) ?? []).flatMap((th) => [th.root, ...th.replies]).filter(isUnread) : [];
  useEffect(() => {
    if (!unread.length) return;
    sendRead(v, unread)
      .then(() => markRead(new Set(unread.map((i) => itemKey(i.groupId, i.seq)))))
      .catch(() => undefined); // retried on the next render
  }, [unread.map((i) => i.seq).join(",")]);
  const onVisible = useCallback((keys: string[]) => setVisible(keys), []);
  const reply = (item: FeedItem) => {
    draft.set({ ...draft.value, replyTo: item.seq });
    document.getElementById("alert-text")?.focus();
  };

  return (
    <section aria-labelledby="group-title" class="group">
      <h2 id="group-title">{group.name}</h2>
      <p>
        {t("feed.status")}: {group.status} · {t("feed.role")}: {group.my_role}
      </p>
      {fingerprint && (
        <p>
          {t("feed.fingerprint")}:{" "}
          <code dir="ltr" data-testid="fingerprint">
            {fingerprint}
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
      {refusal && (
        <TrustRefused error={refusal}>
          {refusal.code !== "crypto.log_rollback" && (
            <p>
              <a href={`/groups/${group.id}`}>{groupText("open_to_resolve")}</a>
            </p>
          )}
        </TrustRefused>
      )}
      {stage === "ready" && roster && !refusal && (
        <>
          <RosterView roster={roster} names={names} />
          <form onSubmit={send} class="card send">
            {replyTo !== null && (
              <p class="replying" data-reply-to={replyTo}>
                {m("replying_to", { seq: String(replyTo) })}{" "}
                <button type="button" class="secondary small" onClick={() => draft.set({ ...draft.value, replyTo: null })}>
                  {m("cancel_reply")}
                </button>
              </p>
            )}
            <label for="alert-text">{t("feed.alert_text")}</label>
            <textarea id="alert-text" name="alert" value={text} required maxLength={4000} onInput={(e) => draft.set({ ...draft.value, text: (e.currentTarget as HTMLTextAreaElement).value })} />
            <label class="check">
              <input type="checkbox" name="urgent" checked={urgent} onChange={(e) => draft.set({ ...draft.value, urgent: (e.currentTarget as HTMLInputElement).checked })} /> {t("feed.urgent")}
            </label>
            <p class="hint" role="status" data-draft={draft.state}>
              {draft.state === "saved" ? m("draft_saved") : draft.state === "saving" ? m("draft_saving") : ""}
            </p>
            <button type="submit" disabled={busy || !text.trim()}>
              {t("feed.send")}
            </button>
          </form>
        </>
      )}
      <VirtualList
        rows={all}
        rowKey={(th: Thread) => th.key}
        label={t("feed.alerts")}
        class="feed"
        onVisible={onVisible}
        render={(th: Thread) => (
          <>
            <ItemView item={th.root} onReply={reply} roster={roster} names={names} reply={false} />
            {th.replies.length > 0 && (
              <ol class="replies">
                {th.replies.map((r) => (
                  <li key={r.seq}>
                    <ItemView item={r} onReply={reply} roster={roster} names={names} reply />
                  </li>
                ))}
              </ol>
            )}
          </>
        )}
      />
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
  useEffect(() => void load(), [groupsTick.value]);
  const group = groups?.find((g) => g.id === selected) ?? null;
  const unreadIndex = useMemo(() => new UnreadIndex(), []);
  const unread = unreadIndex.update(items.value);
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
                {(unread.get(g.id) ?? 0) > 0 && (
                  <span class="unread" data-unread={unread.get(g.id)}>
                    {" "}
                    {m("unread", { count: String(unread.get(g.id)) })}
                  </span>
                )}
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
          <NotifyChoice />
          <Groups />
        </>
      ) : (
        <KeystoreGate />
      )}
    </section>
  );
}
