/**
 * History for late joiners (PROTOCOL.md §9.1), as the Python SDK's `messaging/history.py`:
 *
 * 1. A coordinator's device keeps, for each case or pre-notification it opens (and its own
 *    broadcasts), the key that opened it (`observe`), in the keystore beside the archive.
 * 2. `grantHistory` (in `grant.ts`) logs `grant_history(member, scope)` and sends the member's
 *    devices a HISTORY_GRANT naming each item's seq, sender device, message id, hash and key.
 * 3. The member's device keeps the verified grant (`keepGrant`); `importGranted` fetches the
 *    ORIGINAL envelopes from `/groups/{id}/history/{scope}`, checks each against the grant and
 *    its original sender's key at the head it names, and decrypts it; the records sync
 *    archives the result as if received then. Refused items are archived with the reason;
 *    items the server does not serve stay pending for the next sync.
 *
 * Same keystore secret names and JSON as the SDK (`history-key:<group>:<seq>`,
 * `history-grants:<group>`), so a keystore moved between the CLI and the browser keeps them.
 */
import { b64StdDecode, b64StdEncode, type Bytes, checkGrantedEvent, CryptoError, fromUtf8, type GrantedItem, type HistoryGrant, historyGrantBytes, historyGrantFromBytes, HistoryGrantError, openGrantedItem, parseEnvelope, type Roster, sha256, utf8 } from "../crypto";
import { ARCHIVE, type Incoming, incoming, pyIsoFromMs } from "./incoming";

export const ITEM_KEY = (groupId: string, seq: number | "") => `history-key:${groupId}:${seq}`;
export const PENDING = (groupId: string) => `history-grants:${groupId}`;
/** Seqs per history request, as the server allows. */
export const FETCH_BATCH = 500;

type Secrets = Map<string, Uint8Array>;

interface KeptKey {
  scope: string;
  sender_device_id: string;
  message_id: string;
  envelope_hash: string;
  key: string;
}

/** The history scope an item belongs to: cases and their threads, or pre-notifications. */
export function scopeOf(kind: string, parentSeq: number | null): "cases" | "prenotifications" | null {
  if (kind === "alert" || (kind === "chat" && parentSeq !== null)) return "cases";
  if (kind === "prenotification") return "prenotifications";
  return null;
}

const isCoordinator = (roster: Roster, memberId: string) => roster.members.get(memberId)?.role === "coordinator";

function keep(secrets: Secrets, groupId: string, seq: number, scope: string, envelope: Uint8Array, key: Uint8Array): void {
  const h = parseEnvelope(envelope).header;
  const record: KeptKey = { scope, sender_device_id: h.senderDeviceId, message_id: h.messageId, envelope_hash: b64StdEncode(sha256(envelope)), key: b64StdEncode(key) };
  secrets.set(ITEM_KEY(groupId, seq), utf8(JSON.stringify(record)));
}

/**
 * On a coordinator's device, remember the key of a case or pre-notification it opened, so it
 * can later grant it; other devices keep nothing (no key outlives its use).
 */
export function observe(secrets: Secrets, roster: Roster, memberId: string, meta: { group_id: string; seq: number; kind: string; parent_seq: number | null }, envelope: Uint8Array, itemKey: Uint8Array): void {
  const scope = scopeOf(meta.kind, meta.parent_seq);
  if (scope === null || !itemKey.length || !isCoordinator(roster, memberId)) return;
  keep(secrets, meta.group_id, meta.seq, scope, envelope, itemKey);
}

/** Keep the key of a broadcast this coordinator's device just posted, if in a scope. */
export function observeSent(secrets: Secrets, groupId: string, seq: number, kind: string, parentSeq: number | null, envelope: Uint8Array, itemKey: Uint8Array): void {
  const scope = scopeOf(kind, parentSeq);
  if (scope !== null && itemKey.length) keep(secrets, groupId, seq, scope, envelope, itemKey);
}

/** Every item of `scope` whose key this device holds, by seq. */
export function grantedItems(secrets: Secrets, groupId: string, scope: string): GrantedItem[] {
  const prefix = ITEM_KEY(groupId, "");
  const out: GrantedItem[] = [];
  for (const [name, raw] of secrets) {
    if (!name.startsWith(prefix)) continue;
    const k = JSON.parse(fromUtf8(raw)) as KeptKey;
    if (k.scope !== scope) continue;
    out.push({ seq: Number(name.slice(prefix.length)), senderDeviceId: k.sender_device_id, messageId: k.message_id, envelopeHash: b64StdDecode(k.envelope_hash), itemKey: b64StdDecode(k.key) });
  }
  return out.sort((a, b) => a.seq - b.seq);
}

function loadPending(secrets: Secrets, groupId: string): Record<string, string> {
  const raw = secrets.get(PENDING(groupId));
  return raw && raw.length ? (JSON.parse(fromUtf8(raw)) as Record<string, string>) : {};
}

/** Keep a verified HISTORY_GRANT (its content) until its items are imported; the caller saves. */
export function keepGrant(secrets: Secrets, groupId: string, messageId: string, content: Uint8Array): void {
  const pending = loadPending(secrets, groupId);
  pending[messageId] = b64StdEncode(content);
  secrets.set(PENDING(groupId), utf8(JSON.stringify(pending)));
}

/** Groups for which a verified history grant waits to be imported. */
export function groupsWithGrants(secrets: Secrets): string[] {
  const prefix = PENDING("");
  return [...secrets].filter(([name, value]) => name.startsWith(prefix) && Object.keys(loadPending(secrets, name.slice(prefix.length))).length > 0 && value.length > 0).map(([name]) => name.slice(prefix.length));
}

/** One item as the history route serves it (rendered as `/sync` renders it). */
interface Served {
  group_id: string;
  seq: number;
  kind: string;
  sender_user_id: string | null;
  sender_device_id: string | null;
  parent_seq: number | null;
  urgent: boolean;
  created_at: string | null;
  envelope: string;
}

/** What importing needs: the verified roster and an authenticated call (`RecordsContext`). */
export interface HistoryContext {
  secrets: Secrets;
  roster(groupId: string): Promise<Roster>;
  call<T>(method: string, path: string, body?: unknown): Promise<T>;
}

/**
 * One imported item as the alerts feed needs it: what was opened, with the signed identity
 * (a receipt and a reply are signed over it) and the signed urgency of a verified envelope;
 * `ref` is null for a refusal or a status event.
 */
export interface Imported {
  incoming: Incoming;
  ref: { senderDeviceId: string; messageId: string } | null;
  urgent: boolean;
}

const meta = (s: Served) => ({ group_id: String(s.group_id), seq: Number(s.seq), kind: String(s.kind), sender_user_id: s.sender_user_id ?? null, sender_device_id: s.sender_device_id ?? null, parent_seq: s.parent_seq ?? null, urgent: Boolean(s.urgent), created_at: s.created_at ?? null });

/**
 * Check one served item against its grant (§9.1 "Importing"): a status event by its hash, an
 * envelope by its hash, group, ids, scope, the original sender's key at the head it names,
 * its signature, the granted key, and the server's sender. Throws HistoryGrantError.
 */
export async function openServed(roster: Roster, scope: string, granted: GrantedItem, served: Served): Promise<Imported> {
  const m = meta(served);
  const raw = b64StdDecode(served.envelope);
  if (!granted.itemKey.length) {
    // A signed status event: bound by its hash here, its signature checked when archived.
    checkGrantedEvent(scope, granted, raw);
    const event = JSON.parse(fromUtf8(raw)) as unknown;
    return { incoming: incoming({ ...m, event: typeof event === "object" && event !== null && !Array.isArray(event) ? (event as Record<string, unknown>) : { value: event } }), ref: null, urgent: m.urgent };
  }
  const opened = await openGrantedItem(roster, scope, granted, raw);
  if (opened.device.memberId !== m.sender_user_id) throw new HistoryGrantError(`granted item seq ${granted.seq}: the server's sender is not the signed sender`);
  const h = parseEnvelope(raw).header;
  return {
    incoming: incoming({ ...m, verified: true, content: opened.content, review: h.labels.reviewOf !== null, sent_at: pyIsoFromMs(h.ts) }),
    ref: { senderDeviceId: h.senderDeviceId, messageId: h.messageId },
    urgent: h.labels.urgent,
  };
}

/**
 * Fetch, verify and decrypt the items of every pending grant of the group: verified items and,
 * for any that fail, unverified ones naming the item and the reason, each with what the alerts
 * feed shows of it. Items the server does not serve (withheld, or a refused request) stay
 * pending; the caller saves the keystore.
 */
export async function importGranted(ctx: HistoryContext, groupId: string): Promise<Imported[]> {
  const pending = loadPending(ctx.secrets, groupId);
  if (!Object.keys(pending).length) return [];
  const roster = await ctx.roster(groupId);
  const out: Imported[] = [];
  for (const [grantId, raw] of Object.entries(pending)) {
    const grant: HistoryGrant = historyGrantFromBytes(b64StdDecode(raw));
    const wanted = new Map(grant.items.map((i) => [i.seq, i]));
    const served = new Map<number, Served>();
    const seqs = [...wanted.keys()].sort((a, b) => a - b);
    for (let start = 0; start < seqs.length; start += FETCH_BATCH) {
      const query = seqs.slice(start, start + FETCH_BATCH).map((s) => `seq=${s}`).join("&");
      let page: Served[];
      try {
        page = await ctx.call<Served[]>("GET", `/groups/${groupId}/history/${grant.scope}?${query}`);
      } catch {
        break; // asked again at the next sync
      }
      for (const item of Array.isArray(page) ? page : []) served.set(Number(item.seq), item);
    }
    for (const [seq, item] of [...served].sort(([a], [b]) => a - b)) {
      const granted = wanted.get(seq);
      if (!granted) continue;
      wanted.delete(seq);
      try {
        out.push(await openServed(roster, grant.scope, granted, item));
      } catch (error) {
        if (!(error instanceof CryptoError) && !(error instanceof SyntaxError)) throw error;
        const reason = error instanceof CryptoError ? error.message : `granted item seq ${seq}: the served status event is not JSON`;
        out.push({ incoming: incoming({ ...meta(item), verified: false, error: reason }), ref: null, urgent: Boolean(item.urgent) });
      }
    }
    if (wanted.size) pending[grantId] = b64StdEncode(historyGrantBytes({ memberId: grant.memberId, scope: grant.scope, items: [...wanted.values()] }));
    else delete pending[grantId];
  }
  ctx.secrets.set(PENDING(groupId), utf8(JSON.stringify(pending)));
  return out;
}

// ---- §9 HISTORY_TRANSFER: the archive one of this member's devices hands to its new device ----

/**
 * The `archive` of a HISTORY_TRANSFER this client sends (opaque to the protocol; the SDK sends
 * and merges the same form, with `feed` empty, `messaging/history.py`): UTF-8 JSON `{"v": 1,
 * "group_id", "feed": [feed items], "records": [records archive items in the SDK's
 * `domain-archive` form]}`. Several transfers may carry one device's archive in parts (an
 * envelope is at most 256 KiB).
 */
export const TRANSFER_ARCHIVE_VERSION = 1;

export interface TransferArchive<F> {
  feed: F[];
  records: { seq: number; valid?: boolean; group_id?: string }[];
}

/** Parse a received archive for this group; anything else (empty, other group, other form) is nothing. */
export function parseTransferArchive<F extends { groupId: string; seq: number }>(groupId: string, archive: Uint8Array): TransferArchive<F> {
  if (!archive.length) return { feed: [], records: [] };
  try {
    const raw = JSON.parse(fromUtf8(archive)) as { v?: unknown; group_id?: unknown; feed?: unknown; records?: unknown };
    if (raw.v !== TRANSFER_ARCHIVE_VERSION || raw.group_id !== groupId) return { feed: [], records: [] };
    const feed = (Array.isArray(raw.feed) ? raw.feed : []).filter((i): i is F => typeof i === "object" && i !== null && (i as F).groupId === groupId && Number.isSafeInteger((i as F).seq));
    const records = (Array.isArray(raw.records) ? raw.records : []).filter((i): i is { seq: number; group_id: string } => typeof i === "object" && i !== null && i.group_id === groupId && Number.isSafeInteger(i.seq));
    return { feed, records };
  } catch {
    return { feed: [], records: [] };
  }
}

/** Split this device's items into archives of at most `budget` JSON bytes each (at least one). */
export function transferArchives(groupId: string, feed: readonly unknown[], records: readonly unknown[], budget = 150_000): Bytes[] {
  const parts: { feed: unknown[]; records: unknown[] }[] = [{ feed: [], records: [] }];
  let size = 0;
  const add = (where: "feed" | "records", item: unknown) => {
    const bytes = utf8(JSON.stringify(item)).length + 1;
    if (size + bytes > budget && (parts.at(-1)!.feed.length || parts.at(-1)!.records.length)) {
      parts.push({ feed: [], records: [] });
      size = 0;
    }
    parts.at(-1)![where].push(item);
    size += bytes;
  };
  for (const item of feed) add("feed", item);
  for (const item of records) add("records", item);
  return parts.map((p) => utf8(JSON.stringify({ v: TRANSFER_ARCHIVE_VERSION, group_id: groupId, ...p })));
}

/**
 * Add transferred records to the group's archive (`domain-archive:<group>`, by seq): an item
 * this device already holds valid is kept; the caller saves the keystore.
 */
export function mergeRecords(secrets: Secrets, groupId: string, items: readonly { seq: number; valid?: boolean }[]): number {
  const name = ARCHIVE(groupId);
  const raw = secrets.get(name);
  const known = new Map((raw && raw.length ? (JSON.parse(fromUtf8(raw)) as { seq: number; valid?: boolean }[]) : []).map((i) => [i.seq, i]));
  let added = 0;
  for (const item of items) {
    if (known.get(item.seq)?.valid) continue;
    known.set(item.seq, item);
    added++;
  }
  if (added) secrets.set(name, utf8(JSON.stringify([...known.values()].sort((a, b) => a.seq - b.seq))));
  return added;
}
