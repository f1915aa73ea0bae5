/**
 * The live feed over `/api/v1/ws` (docs/REALTIME.md): the backlog after this device's cursor,
 * `caught_up`, then pushed items. The cursor advances only once an item was handled and the
 * keystore saved, so a reconnect (with backoff) resumes with nothing lost and nothing doubled:
 * an item at or below the cursor is skipped. Delivered receipts go back on the socket.
 */
import { signal } from "@preact/signals";
import { session } from "../auth/session";
import { b64e, fromUtf8, utf8 } from "../crypto";
import { type FeedItem, GroupChannel } from "./engine";
import { keepIncoming } from "../records/incoming";
import type { Vault } from "./vault";

export type LinkState = "connecting" | "syncing" | "live" | "offline";

const CURSOR = "web-cursor";
const ITEMS = "web-feed";
const KEEP = 500;

export const link = signal<LinkState>("offline");
export const items = signal<FeedItem[]>([]);
/** Bumped when opened content went to the records inbox (cases and pre-notifications re-sync). */
export const inboxTick = signal(0);

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

export function loadItems(vault: Vault): void {
  const raw = vault.data.secrets.get(ITEMS);
  items.value = raw ? (JSON.parse(fromUtf8(raw)) as FeedItem[]) : [];
}

async function keep(vault: Vault, item: FeedItem): Promise<void> {
  items.value = [...items.value, item].slice(-KEEP);
  vault.data.secrets.set(ITEMS, utf8(JSON.stringify(items.value)));
}

/** Note that read receipts went out for these items (not sent twice). */
export async function markRead(vault: Vault, seqs: ReadonlySet<string>): Promise<void> {
  items.value = items.value.map((i) => (seqs.has(`${i.groupId}/${i.seq}`) ? { ...i, read: true } : i));
  vault.data.secrets.set(ITEMS, utf8(JSON.stringify(items.value)));
  await vault.save();
}

/** Record an item this device sent (shown at once, not waited for from the socket). */
export async function keepSent(vault: Vault, item: FeedItem): Promise<void> {
  await keep(vault, item);
  await vault.save();
}

export class LiveFeed {
  private socket: WebSocket | null = null;
  private channels = new Map<string, Promise<GroupChannel>>();
  private queue: Promise<void> = Promise.resolve();
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
   * same opening, so a key one installs is seen by all and no copy overwrites another's state. */
  channel(groupId: string): Promise<GroupChannel> {
    let channel = this.channels.get(groupId);
    if (!channel) {
      const opening = GroupChannel.open(this.vault, groupId);
      channel = opening;
      this.channels.set(groupId, opening);
      opening.catch(() => this.channels.get(groupId) === opening && this.channels.delete(groupId));
    }
    return channel;
  }

  private readonly retryNow = () => {
    if (link.value === "offline" && !this.stopped) {
      clearTimeout(this.timer);
      this.connect();
    }
  };

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
        this.attempt = 0; // connected: the next drop starts the backoff again at 1 s
      } else if (frame.type === "caught_up") this.queue = this.queue.then(() => void (link.value = "live"));
      else if (frame.type === "item") {
        const { type: _type, ...raw } = frame;
        this.queue = this.queue
          .then(() => (this.broken.has(socket) ? undefined : this.handle(socket, raw)))
          .catch(() => {
            // Not handled (network, storage): skip nothing; reconnect and resume from the cursor.
            this.broken.add(socket);
            socket.close(4000);
          });
      }
    };
    socket.onclose = () => {
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
    const pos = positions(this.vault);
    if (!Number.isSafeInteger(seq) || seq <= (pos[hex] ?? 0)) return; // already handled
    const channel = await this.channel(groupId);
    const { item, receipt, incoming } = await channel.receive(raw);
    if (item) await keep(this.vault, item);
    if (incoming) keepIncoming(this.vault.data.secrets, incoming);
    pos[hex] = seq;
    this.vault.data.secrets.set(CURSOR, utf8(JSON.stringify(pos)));
    await this.vault.save();
    if (incoming) inboxTick.value++;
    if (receipt && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: "receipt", ...receipt }));
  }
}
