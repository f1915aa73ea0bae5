/**
 * Decrypted content items waiting for the records layer: a broadcast can be decrypted only
 * once (its message key is deleted on use), so the live feed puts every alert, chat and
 * pre-notification it opened, and every pre-notification status event, here; `sync` in
 * `store.ts` takes them, validates them against their templates and archives them.
 * The inbox is a store of sealed IndexedDB records (`storage/sealed.ts`, store `inbox`), one
 * per item under its group and seq: the live feed appends a batch with one write, before it
 * saves the chain state and acknowledges (PROTOCOL §7.1), and an item delivered again after a
 * crash replaces its own record instead of doubling. (It was the SDK's keystore secret
 * `inbox`, a JSON list re-written per item and sealed with the whole keystore per batch; one
 * found there is moved here once, at unlock: `moveKeystoreInbox`.)
 * Light on purpose: the live feed imports it, the template machinery stays in the lazy chunks.
 */
import { b64StdDecode, b64StdEncode, fromUtf8 } from "../crypto";

/** The keystore secret the inbox was kept in before (the SDK's name): moved out at unlock. */
export const INBOX = "inbox";
/** The keystore secret of a group's records archive (`store.ts`; the SDK's name and JSON),
 * named here so light modules read and merge it without the template machinery. */
export const ARCHIVE = (groupId: string) => `domain-archive:${groupId}`;
export const INBOX_KINDS: ReadonlySet<string> = new Set(["alert", "chat", "prenotification", "prenotification_event"]);
export const INBOX_LIMIT = 5_000; // per group, newest kept when nobody reads the inbox

/** One item as sync received it: verified content, a refusal (`error`), or a server event. */
export interface Incoming {
  group_id: string;
  seq: number;
  kind: string;
  sender_user_id: string | null;
  sender_device_id: string | null;
  verified: boolean;
  content: Uint8Array | null;
  error: string | null;
  urgent: boolean;
  parent_seq: number | null;
  /** A server-written event (not end-to-end protected), e.g. a pre-notification status event. */
  event: Record<string, unknown> | null;
  created_at: string | null;
  /** The parent is a case this item reviews (signed `review_of` label). */
  review: boolean;
  /** The send time the sender signed in the envelope (ISO, UTC). */
  sent_at: string | null;
  own: boolean;
}

export function incoming(partial: Partial<Incoming> & Pick<Incoming, "group_id" | "seq" | "kind">): Incoming {
  return { sender_user_id: null, sender_device_id: null, verified: false, content: null, error: null, urgent: false, parent_seq: null, event: null, created_at: null, review: false, sent_at: null, own: false, ...partial };
}

/** Python's `datetime.isoformat()` of a UTC instant in ms (`…T12:00:00.123000+00:00`). */
export function pyIsoFromMs(ms: number): string {
  const d = new Date(ms);
  const base = d.toISOString().slice(0, 19);
  const frac = d.getUTCMilliseconds();
  return `${base}${frac ? `.${String(frac).padStart(3, "0")}000` : ""}+00:00`;
}

type Secrets = Map<string, Uint8Array>;
type InboxJson = Omit<Incoming, "content"> & { content: string | null };

const toJson = (i: Incoming): InboxJson => ({ ...i, content: i.content ? b64StdEncode(i.content) : null });
const fromJson = (raw: InboxJson): Incoming => incoming({ ...raw, content: raw.content ? b64StdDecode(raw.content) : null });

/** An item's record id: its group, then its seq (sortable); the same item twice is one record. */
export const inboxId = (i: Pick<Incoming, "group_id" | "seq">) => `${i.group_id}/${String(i.seq).padStart(12, "0")}`;

/** What the inbox needs of a record store (`SealedStore`, store `inbox`). */
export interface InboxRecords {
  putMany(entries: ReadonlyArray<readonly [string, unknown]>): Promise<void>;
  all<T>(): Promise<T[]>;
  deleteMany(ids: readonly string[]): Promise<void>;
  keys(): Promise<string[]>;
}

/** The records inbox of one user of this browser. */
export class RecordsInbox {
  /** `records`: the store, opened on first use (it needs the unlocked keystore's key). */
  constructor(private readonly records: () => Promise<InboxRecords>) {}

  /** Records in the store, at most (null: not counted yet), and the size that sends `keep`
   * to look for groups past the limit again. */
  private size: number | null = null;
  private checkAt = INBOX_LIMIT;

  /**
   * Keep opened items for the records layer, in one write (other kinds are not kept). Past
   * `INBOX_LIMIT` items of a group nobody took, its oldest (lowest seq) are dropped.
   */
  async keep(items: readonly Incoming[]): Promise<void> {
    const kept = items.filter((i) => INBOX_KINDS.has(i.kind));
    if (!kept.length) return;
    const records = await this.records();
    await records.putMany(kept.map((i) => [inboxId(i), toJson(i)] as const));
    // Counted once, then kept up to date (at most: an item again replaces its record).
    this.size = this.size === null ? (await records.keys()).length : this.size + kept.length;
    if (this.size <= this.checkAt) return;
    const perGroup = new Map<string, string[]>();
    for (const id of await records.keys()) {
      const group = id.slice(0, id.lastIndexOf("/"));
      const ids = perGroup.get(group) ?? [];
      if (!ids.length) perGroup.set(group, ids);
      ids.push(id);
    }
    const dropped = [...perGroup.values()].flatMap((ids) => ids.slice(0, Math.max(0, ids.length - INBOX_LIMIT)));
    await records.deleteMany(dropped);
    this.size = [...perGroup.values()].reduce((n, ids) => n + ids.length, 0) - dropped.length;
    // Nothing to drop (many groups, none past the limit): look again 500 items later.
    this.checkAt = dropped.length ? Math.max(INBOX_LIMIT, this.size) : this.size + 500;
  }

  /** Everything waiting, by group and seq. Still kept until `drop`: take, archive, then drop. */
  async pending(): Promise<Incoming[]> {
    return (await (await this.records()).all<InboxJson>()).map(fromJson);
  }

  /** Forget items the records layer archived (and saved). */
  async drop(items: readonly Incoming[]): Promise<void> {
    await (await this.records()).deleteMany(items.map(inboxId));
    this.size = null;
  }

  /**
   * Move an inbox kept the old way (the keystore secret `inbox`, the SDK's JSON list) into
   * this store, then delete the secret and save the keystore: once, at unlock. Returns how
   * many items moved.
   */
  async moveKeystoreInbox(secrets: Secrets, save: () => Promise<void>): Promise<number> {
    const raw = secrets.get(INBOX);
    if (!raw) return 0;
    const items = raw.length ? (JSON.parse(fromUtf8(raw)) as InboxJson[]).map(fromJson) : [];
    await this.keep(items);
    secrets.delete(INBOX);
    await save();
    return items.length;
  }
}
