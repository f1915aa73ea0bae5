/**
 * The live feed over `/api/v1/ws` (docs/REALTIME.md): the backlog after this device's cursor,
 * `caught_up`, then pushed items. Nothing is acknowledged before it is stored: an item is
 * handled (verified, decrypted, its ratchet step staged in the keystore), shown at once, and
 * committed with the items after it in one batch (what the records layer needs written to its
 * inbox, then one keystore seal holding the ratchets and the cursor); only then do the
 * delivered receipts leave (a `receipts` frame per 200) and does the resume point move. A
 * batch closes when no further frame is waiting, at `BATCH_MAX` items or after `BATCH_MS`, so
 * a backlog of thousands costs a few dozen seals instead of one per item, while a live item
 * is committed on its own at once, after it was painted. A crash before a commit re-delivers the
 * batch (the stored ratchets can still open it, the cursor is before it), never skips one;
 * nothing doubles since an item at or below the cursor is skipped and items are kept by seq.
 */
import { signal } from "@preact/signals";
import { session } from "../auth/session";
import { b64e, fromUtf8, KeyUnavailableError, utf8 } from "../crypto";
import type { Imported } from "../records/history";
import { type Incoming, RecordsInbox } from "../records/incoming";
import { SealedStore } from "../storage/sealed";
import { certifySelf, type FeedItem, grantedItem, GroupChannel, isPinned, type ReceiptUpdate } from "./engine";
import { notifyUrgent } from "./notify";
import type { Vault } from "./vault";

export type LinkState = "connecting" | "syncing" | "live" | "offline";

const CURSOR = "web-cursor";
/** Where items lived before they moved to the sealed feed store (moved once, then dropped). */
const OLD_ITEMS = "web-feed";
/** Handled items not yet in the feed store, sealed with the cursor that passed them. */
const JOURNAL = "web-feed-journal";
export const BATCH_MAX = 250;
export const BATCH_MS = 250;
/** Delivered receipts per `receipts` frame: ~190 bytes each, under the server's 64 KiB frame. */
const RECEIPTS_PER_FRAME = 200;

export const link = signal<LinkState>("offline");
/** Every item this device keeps, in (group, seq) order of arrival; re-set in batches. */
export const items = signal<FeedItem[]>([]);
/** Bumped when opened content went to the records inbox (cases and pre-notifications re-sync). */
export const inboxTick = signal(0);
/** Bumped after a run of frames held a membership item (an admission, a removal): screens
 * listing the user's groups load the list again, so a group the member was just admitted to
 * shows up without a reload. */
export const groupsTick = signal(0);

const byKey = new Map<string, FeedItem>();
let feedStore: SealedStore | null = null;
let showTimer: ReturnType<typeof setTimeout> | undefined;

const inboxes = new WeakMap<Vault, RecordsInbox>();

/** The records inbox of the unlocked user (sealed IndexedDB records under the local key). */
export function recordsInbox(vault: Vault): RecordsInbox {
  let inbox = inboxes.get(vault);
  if (!inbox) {
    inbox = new RecordsInbox(async () => new SealedStore(vault.username, "inbox", await vault.localKey()));
    inboxes.set(vault, inbox);
  }
  return inbox;
}

/** The record id of an item: sortable by group, then seq. */
export const itemKey = (groupId: string, seq: number) => `${groupId}/${String(seq).padStart(12, "0")}`;

export function itemAt(groupId: string, seq: number): FeedItem | null {
  return byKey.get(itemKey(groupId, seq)) ?? null;
}

/** How often a backlog being caught up is shown (each showing renders the feed once). */
const BACKLOG_SHOW_MS = 100;

/** Publish changed items to the UI: at once while live, once per task otherwise, and at most
 * every `BACKLOG_SHOW_MS` while a backlog is caught up (`delay`). */
function publish(changed: FeedItem[], now = false, delay = 0): void {
  for (const item of changed) byKey.set(itemKey(item.groupId, item.seq), item);
  if (now) {
    clearTimeout(showTimer);
    showTimer = undefined;
    items.value = [...byKey.values()];
  } else if (showTimer === undefined) {
    showTimer = setTimeout(() => {
      showTimer = undefined;
      items.value = [...byKey.values()];
    }, delay);
  }
}

/** Once the browser painted what is rendered now (at most 100 ms: no frames in a hidden tab). */
function afterPaint(): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 100);
    requestAnimationFrame(() =>
      setTimeout(() => {
        clearTimeout(timer);
        resolve();
      }, 0),
    );
  });
}

/** Positions per group (hex id → last handled seq), as the server's `c1.` cursor holds them. */
function positions(vault: Vault): Record<string, number> {
  const raw = vault.data.secrets.get(CURSOR);
  return raw ? (JSON.parse(fromUtf8(raw)) as Record<string, number>) : {};
}

function cursorOf(pos: Record<string, number>): string | null {
  const entries = Object.entries(pos).filter(([, s]) => s > 0).sort(([a], [b]) => (a < b ? -1 : 1));
  if (!entries.length) return null;
  return "c1." + b64e(utf8(JSON.stringify(Object.fromEntries(entries))));
}

/** Open this user's stored feed (decrypting every record) and show it. */
export async function loadItems(vault: Vault): Promise<void> {
  feedStore = new SealedStore(vault.username, "feed", await vault.localKey());
  await recordsInbox(vault).moveKeystoreInbox(vault.data.secrets, () => vault.save()); // once
  byKey.clear();
  for (const item of await feedStore.all<FeedItem>()) byKey.set(itemKey(item.groupId, item.seq), item);
  // Items sealed with the cursor but maybe not yet in the store: add those it lacks (a stored
  // one may be newer: read, or with receipts since).
  for (const name of [OLD_ITEMS, JOURNAL]) {
    const kept = vault.data.secrets.get(name);
    if (!kept) continue;
    const missing = (JSON.parse(fromUtf8(kept)) as FeedItem[]).filter((i) => !byKey.has(itemKey(i.groupId, i.seq)));
    await feedStore.putMany(missing.map((i) => [itemKey(i.groupId, i.seq), i] as const));
    for (const item of missing) byKey.set(itemKey(item.groupId, item.seq), item);
    vault.data.secrets.delete(name);
    await vault.save();
  }
  clearTimeout(showTimer);
  showTimer = undefined;
  items.value = [...byKey.values()];
  performance.mark("cordon:feed-loaded"); // stored items opened (bench/feed_chromium.spec.ts)
}

export function forgetItems(): void {
  byKey.clear();
  feedStore = null;
  items.value = [];
}

/** The current version of an item (a receipt or a read mark may have changed it since). */
const latest = (item: FeedItem): FeedItem => byKey.get(itemKey(item.groupId, item.seq)) ?? item;

async function store(changed: FeedItem[]): Promise<void> {
  await feedStore?.putMany(changed.map((i) => [itemKey(i.groupId, i.seq), i] as const));
}

/**
 * Of earlier items brought from elsewhere (a HISTORY_TRANSFER, a history grant), those shown:
 * in place of what this device could not read, never over an item it verified itself.
 */
function replaceable(brought: readonly FeedItem[]): FeedItem[] {
  return brought.filter((r) => {
    const held = byKey.get(itemKey(r.groupId, r.seq));
    return !held || held.before !== undefined;
  });
}

/**
 * Show the alerts a history grant brought (PROTOCOL §9.1), once the records sync archived
 * them, as if received then; a refused one keeps its refusal, never shown as content.
 */
export async function showGranted(imported: readonly Imported[]): Promise<void> {
  const kept = replaceable(imported.map(grantedItem).filter((i): i is FeedItem => i !== null));
  if (!kept.length) return;
  publish(kept, true);
  await store(kept);
}

/** Note that read receipts went out for these items (not sent twice). */
export async function markRead(keys: ReadonlySet<string>): Promise<void> {
  const changed = [...keys].map((k) => byKey.get(k)).filter((i): i is FeedItem => !!i).map((i) => ({ ...i, read: true }));
  publish(changed);
  await store(changed);
}

/** Record an item this device sent (shown at once, not waited for from the socket). */
export async function keepSent(item: FeedItem): Promise<void> {
  publish([item]);
  await store([item]);
}

/** A checked receipt: the recipient device's state on this device's item. */
function applyReceipt(update: ReceiptUpdate): FeedItem | null {
  const item = byKey.get(itemKey(update.groupId, update.seq));
  if (!item?.mine) return null;
  const receipts = { ...(item.receipts ?? {}) };
  const was = receipts[update.deviceId] ?? { userId: update.userId, delivered: null, read: null };
  const next = { ...was, userId: was.userId ?? update.userId, [update.status]: update.ts };
  if (update.status === "read" && next.delivered === null) next.delivered = update.ts; // read implies delivered
  receipts[update.deviceId] = next;
  return { ...item, receipts };
}

interface Batch {
  socket: WebSocket;
  receipts: Record<string, unknown>[];
  started: number;
  size: number;
}

/** Run `work` after everything queued before it (see `LiveFeed.exclusive`). */
type Queue = Promise<void>;

export class LiveFeed {
  private socket: WebSocket | null = null;
  private channels = new Map<string, Promise<GroupChannel>>();
  /** Channels whose session moved since the last commit. */
  private dirty = new Set<GroupChannel>();
  private queue: Queue = Promise.resolve();
  /** Frames received and not yet handled: a batch is committed when none is waiting. */
  private waiting = 0;
  private batch: Batch | null = null;
  /** Handled positions, ahead of the keystore's cursor until the batch commits. */
  private pos: Record<string, number> | null = null;
  /** Handled items not yet confirmed in the feed store: sealed in the keystore with the cursor. */
  private journal: FeedItem[] = [];
  /** Opened content for the records inbox, written by the commit that passes it. */
  private incoming: Incoming[] = [];
  private granted = false;
  private membershipSeen = false;
  private attempt = 0;
  private stopped = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly broken = new WeakSet<WebSocket>();

  constructor(private readonly vault: Vault) {}

  start(): void {
    this.stopped = false;
    this.connect();
    addEventListener("online", this.retryNow);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    removeEventListener("online", this.retryNow);
    this.socket?.close(1000);
    this.socket = null;
    link.value = "offline";
  }

  /** The one session of a group: callers racing to open it (a pushed item, a screen) share the
   * same opening, so a key one installs is seen by all and no copy overwrites another's state.
   * Its sends run through `exclusive`. */
  channel(groupId: string): Promise<GroupChannel> {
    let channel = this.channels.get(groupId);
    if (!channel) {
      const opening = GroupChannel.open(this.vault, groupId).then((opened) => {
        opened.exclusive = (work) => this.exclusive(work);
        return opened;
      });
      channel = opening;
      this.channels.set(groupId, opening);
      opening.catch(() => this.channels.get(groupId) === opening && this.channels.delete(groupId));
    }
    return channel;
  }

  /**
   * The group's channel, this device certified in its log first if the member was admitted
   * since (as every group screen does when it opens): an admission that arrives while the
   * member looks at another screen must not stop the feed for every group.
   *
   * The server may announce an admission (a `membership` item) before the coordinator's
   * signed entry exists (the SDK adds on the server first): that item has nothing to open, so
   * it passes (null) and the device certifies itself once the entry is there. Any other item
   * of a group this device cannot certify itself in fails as before: the feed resumes from
   * its cursor.
   */
  private async admitted(groupId: string, serverEvent: boolean): Promise<GroupChannel | null> {
    try {
      return await this.channel(groupId);
    } catch (error) {
      const user = session.value?.user.id;
      if (!(error instanceof KeyUnavailableError) || !user) throw error;
      const outcome = await certifySelf(this.vault, groupId, user);
      if (outcome === "not_admitted" && serverEvent) {
        this.certifyOnceLogged(groupId, user);
        return null;
      }
      if (outcome === "not_admitted" || outcome === "not_linked") throw error;
      return this.channel(groupId);
    }
  }

  /** Certify in the background once the coordinator's entry is logged (5 tries over ~8 s),
   * so the coordinator's next send already seals to this device. */
  private certifyOnceLogged(groupId: string, user: string, attempt = 0): void {
    if (attempt >= 5) return;
    setTimeout(() => {
      if (this.stopped) return;
      certifySelf(this.vault, groupId, user).then(
        (outcome) => outcome === "not_admitted" && this.certifyOnceLogged(groupId, user, attempt + 1),
        () => undefined, // a refused log is reported where the group is opened
      );
    }, 250 * 2 ** attempt);
  }

  /**
   * Run `work` between two items, after the current batch committed: a send exports the
   * session, which must then hold nothing the keystore's cursor is not past.
   */
  exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(async () => {
      await this.commit();
      return work();
    });
    this.queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private readonly retryNow = () => {
    if (link.value === "offline" && !this.stopped) {
      clearTimeout(this.timer);
      this.connect();
    }
  };

  private enqueue(socket: WebSocket, work: () => Promise<void>): void {
    this.waiting++;
    this.queue = this.queue
      .then(() => (this.broken.has(socket) ? undefined : work()))
      .catch(() => {
        // Not handled or not stored (network, storage): nothing acknowledged. Sessions and the
        // position go back to what the keystore holds; reconnect and resume from its cursor.
        // The sessions are reloaded in place: other screens hold these channels too.
        this.batch = null;
        this.pos = null;
        this.incoming = [];
        for (const channel of this.dirty) channel.reload();
        this.dirty.clear();
        this.broken.add(socket);
        socket.close(4000);
      })
      .finally(() => {
        this.waiting--;
        if (this.waiting === 0 && this.membershipSeen) {
          this.membershipSeen = false;
          groupsTick.value++;
        }
      });
  }

  private connect(): void {
    const token = session.value?.token;
    if (!token || this.stopped) return;
    link.value = "connecting";
    const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/api/v1/ws`;
    const socket = new WebSocket(url);
    this.socket = socket;
    socket.onopen = () => socket.send(JSON.stringify({ type: "auth", token, cursor: cursorOf(positions(this.vault)) }));
    socket.onmessage = (event) => {
      const frame = JSON.parse(String(event.data)) as Record<string, unknown>;
      if (frame.type === "ready") {
        link.value = "syncing";
        performance.mark("cordon:ready");
      } else if (frame.type === "caught_up") {
        this.enqueue(socket, async () => {
          await this.commit();
          if (showTimer !== undefined) publish([], true); // the backlog's last items, not 100 ms later
          link.value = "live";
          this.attempt = 0; // caught up: the next drop starts the backoff again at 1 s (not on
          // "ready": a socket dropped while catching up would otherwise retry every second)
          performance.mark("cordon:caught-up");
        });
      } else if (frame.type === "item") {
        const { type: _type, ...raw } = frame;
        // Frame arrival, for the "on screen within 50 ms" measure (bench/feed_chromium.mjs).
        if (link.value === "live") performance.mark(`cordon:frame:${itemKey(String(raw.group_id), Number(raw.seq))}`);
        this.enqueue(socket, () => this.handle(socket, raw));
      }
    };
    socket.onclose = (event) => {
      performance.mark(`cordon:closed:${event.code}`); // why a socket ended (bench/feed_chromium.spec.ts)
      if (this.socket !== socket) return;
      this.socket = null;
      link.value = "offline";
      if (this.stopped) return;
      // 1 s, 2 s, 4 s … 30 s, with jitter so many browsers do not come back at once.
      const delay = Math.min(30_000, 1000 * 2 ** this.attempt++) * (0.5 + Math.random() / 2);
      this.timer = setTimeout(() => this.connect(), delay);
    };
  }

  private async handle(socket: WebSocket, raw: Record<string, unknown>): Promise<void> {
    const groupId = String(raw.group_id);
    const seq = Number(raw.seq);
    const hex = groupId.replace(/-/g, "");
    this.pos ??= positions(this.vault);
    if (!Number.isSafeInteger(seq) || seq <= (this.pos[hex] ?? 0)) return; // already handled
    if (raw.kind === "membership") this.membershipSeen = true;
    // A group this device has not pinned yet (a member before answering the invitation, a
    // linked device before comparing the fingerprint) cannot be verified: its items wait, the
    // cursor stays, and they come again once it is pinned. Not a reason to drop the socket.
    if (!isPinned(this.vault, groupId)) return;
    const channel = await this.admitted(groupId, raw.kind === "membership");
    if (!channel) {
      this.pos[hex] = seq; // a server event with nothing to open (see `admitted`)
      return;
    }
    const { item, receipt, update, incoming, granted, restored } = await channel.receive(raw, itemAt);
    this.batch ??= { socket, receipts: [], started: Date.now(), size: 0 };
    // A receipt or a server event leaves the session as it was: nothing to export for it.
    const moved = raw.kind !== "receipt" && raw.kind !== "prenotification_event";
    if (moved) this.dirty.add(channel);
    const changed = item ?? (update ? applyReceipt(update) : null);
    // Only what changes something counts towards `BATCH_MAX`: a run of items that change
    // nothing (this device's own receipts, streamed back to it) costs a seal per `BATCH_MS`,
    // not one per 250 of them.
    if (moved || changed || incoming || receipt) this.batch.size++;
    if (changed) {
      const live = link.value === "live";
      publish([changed], live, live ? 0 : BACKLOG_SHOW_MS); // shown now; acknowledged only once committed
      const mark = `cordon:frame:${itemKey(groupId, seq)}`;
      if (performance.getEntriesByName(mark, "mark").length) performance.measure("cordon:frame-to-handled", { start: mark, detail: mark });
      this.journal.push(changed);
      if (item?.urgent && !item.mine && item.refused === null) notifyUrgent();
    }
    if (incoming) this.incoming.push(incoming);
    // Earlier items another device of this member handed over (HISTORY_TRANSFER).
    const kept = replaceable(restored ?? []);
    if (kept.length) {
      publish(kept, link.value === "live");
      this.journal.push(...kept);
    }
    if (granted) this.granted = true;
    if (receipt) this.batch.receipts.push(receipt);
    this.pos[hex] = seq;
    // `waiting` counts this frame too: 1 means nothing else has arrived behind it.
    if (this.waiting <= 1 || this.batch.size >= BATCH_MAX || Date.now() - this.batch.started >= BATCH_MS) {
      // A live item is painted before its commit (a keystore seal) takes the main thread.
      if (changed && link.value === "live") await afterPaint();
      await this.commit();
    }
  }

  /**
   * One commit: stage the sessions, the cursor and the not-yet-stored items together in the
   * keystore and seal it once; then acknowledge (receipts) and move the items to the feed store.
   */
  private async commit(): Promise<void> {
    const batch = this.batch;
    this.batch = null;
    const started = performance.now();
    if (batch || this.dirty.size) {
      // The opened content first (§7.1): an item delivered again after a crash replaces its record.
      if (this.incoming.length) await recordsInbox(this.vault).keep(this.incoming);
      const secrets = this.vault.data.secrets;
      for (const channel of this.dirty) channel.stage();
      this.dirty.clear();
      if (this.pos) secrets.set(CURSOR, utf8(JSON.stringify(this.pos)));
      if (this.journal.length) secrets.set(JOURNAL, utf8(JSON.stringify(this.journal.map(latest))));
      else secrets.delete(JOURNAL);
      await this.vault.save();
      performance.measure("cordon:commit", { start: started }); // one seal (bench/feed_chromium.spec.ts)
    }
    if (this.incoming.length || this.granted) {
      this.incoming = [];
      this.granted = false; // a history grant to import (records sync, PROTOCOL §9.1)
      inboxTick.value++;
    }
    // One frame per RECEIPTS_PER_FRAME receipts (one group commit on the server), not one per item.
    if (batch && batch.socket.readyState === WebSocket.OPEN) {
      for (let i = 0; i < batch.receipts.length; i += RECEIPTS_PER_FRAME) {
        const part = batch.receipts.slice(i, i + RECEIPTS_PER_FRAME);
        batch.socket.send(JSON.stringify(part.length === 1 ? { type: "receipt", ...part[0] } : { type: "receipts", receipts: part }));
      }
    }
    if (this.journal.length) {
      const moving = this.journal;
      await store(moving.map(latest));
      this.journal = this.journal.slice(moving.length);
    }
  }
}
