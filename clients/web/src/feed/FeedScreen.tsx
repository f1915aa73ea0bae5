/** Taking part in groups from this browser: the keystore set-up or unlock, joining with an
 * invitation, the verified roster, and the live alert feed with sending. */
import { signal } from "@preact/signals";
import { useEffect, useState } from "preact/hooks";
import { ErrorLine, Field, Notice, ScreenTitle } from "../app/ui";
import { takePendingSeed } from "../auth/device";
import { session } from "../auth/session";
import { memberSafetyNumber, type Roster, WrongPassphraseError } from "../crypto";
import { type Described, describeError, formatDate, type MessageKey, t } from "../i18n";
import { certifySelf, type GroupChannel, type GroupSummary, isPinned, listGroups, requestJoin, rootFingerprint, sendRead } from "./engine";
import { items, keepSent, link, LiveFeed, loadItems, markRead } from "./live";
import { fetchNames, memberLabel, type MemberName } from "./names";
import { sealedFor, Vault } from "./vault";

/** The unlocked keystore of this tab; other features (the library) take part through it. */
export const vault = signal<Vault | null>(null);
let feed: LiveFeed | null = null;

/** The live feed's session of a group (shared, so keys a pushed item installs are seen by
 * every screen); null while the keystore is locked. */
export function groupChannel(groupId: string): Promise<GroupChannel> | null {
  return feed ? feed.channel(groupId) : null;
}
/** A seed handed over by this tab's login, kept until the passphrase is chosen. */
let seed: Uint8Array | null = null;

function describe(error: unknown): Described {
  if (error instanceof WrongPassphraseError) return { message: t("feed.wrong_passphrase"), code: "crypto.wrong_passphrase" };
  if (error instanceof Error && !("status" in error) && error.name !== "NetworkError") return { message: error.message, code: "code" in error ? String(error.code) : null };
  return describeError(error);
}

function opened(next: Vault) {
  vault.value = next;
  loadItems(next);
  feed?.stop();
  feed = new LiveFeed(next);
  feed.start();
}

/** Close the feed when the session ends (logout, expiry): keys leave memory with it. */
session.subscribe((current) => {
  if (!current && vault.value) {
    feed?.stop();
    feed = null;
    vault.value = null;
    items.value = [];
  }
});

/** Set up or unlock this browser's keystore (the Alerts and Library screens start with it). */
export function KeystoreGate() {
  const user = session.value!.user;
  const [mode, setMode] = useState<"loading" | "create" | "unlock" | "lost">("loading");
  const [passphrase, setPassphrase] = useState("");
  const [confirm, setConfirm] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Described | null>(null);
  useEffect(() => {
    void (async () => {
      seed ??= takePendingSeed(user.username);
      const sealed = await sealedFor(user.username);
      setMode(sealed && sealed.deviceId === session.value?.deviceId ? "unlock" : seed ? "create" : "lost");
    })();
  }, []);
  async function submit(event: Event) {
    event.preventDefault();
    setError(null);
    if (mode === "create" && passphrase !== confirm) {
      setError({ message: t("feed.passphrase_mismatch"), code: null });
      return;
    }
    setBusy(true);
    try {
      if (mode === "create") {
        opened(await Vault.create(user.username, session.value!.deviceId, seed!, passphrase));
        seed = null;
      } else {
        const next = await Vault.unlock(user.username, passphrase);
        await next.publishKeys();
        opened(next);
      }
    } catch (failure) {
      setError(describe(failure));
    } finally {
      setBusy(false);
    }
  }
  if (mode === "loading") return null;
  if (mode === "lost") return <Notice>{t("feed.device_without_keystore")}</Notice>;
  return (
    <form class="card" onSubmit={submit}>
      <h2>{t(mode === "create" ? "feed.setup_title" : "feed.unlock_title")}</h2>
      <p>{t(mode === "create" ? "feed.setup_hint" : "feed.unlock_hint")}</p>
      <Field name="passphrase" type="password" label={t("feed.passphrase")} value={passphrase} onInput={setPassphrase} autoComplete="new-password" required />
      {mode === "create" && <Field name="passphrase-confirm" type="password" label={t("feed.passphrase_confirm")} value={confirm} onInput={setConfirm} autoComplete="new-password" required />}
      <ErrorLine error={error} />
      <button type="submit" disabled={busy}>
        {t(mode === "create" ? "feed.setup_submit" : "feed.unlock_submit")}
      </button>
    </form>
  );
}

function LinkBanner() {
  const state = link.value;
  if (state === "live") return null;
  const key: MessageKey = state === "offline" ? "feed.offline" : state === "syncing" ? "feed.syncing" : "feed.connecting";
  return (
    <p class={state === "offline" ? "banner offline" : "banner"} role="status" data-link={state}>
      {t(key)}
    </p>
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
  const [stage, setStage] = useState<"loading" | "not_pinned" | "not_admitted" | "ready">("loading");
  const [text, setText] = useState("");
  const [urgent, setUrgent] = useState(false);
  const [error, setError] = useState<Described | null>(null);
  const [busy, setBusy] = useState(false);

  async function load() {
    setError(null);
    if (!isPinned(v, group.id)) return setStage("not_pinned");
    try {
      const outcome = await certifySelf(v, group.id, session.value!.user.id);
      if (outcome === "not_admitted") return setStage("not_admitted");
      const channel = await feed!.channel(group.id);
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
      const channel = await feed!.channel(group.id);
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
      {stage === "not_pinned" && <Notice>{t("feed.not_pinned")}</Notice>}
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
              <p class="text">{item.text}</p>
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
