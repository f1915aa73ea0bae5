/**
 * Decrypted content items waiting for the records layer, as the SDK's keystore inbox
 * (`messaging/client.py` `INBOX`, `messaging/incoming.py`): a broadcast can be decrypted only
 * once (its message key is deleted on use), so the live feed puts every alert, chat and
 * pre-notification it opened, and every pre-notification status event, here; `sync` in
 * `store.ts` takes them, validates them against their templates and archives them. Same secret
 * name and JSON as the SDK, so a keystore moved between the CLI and the browser keeps it.
 * Light on purpose: the live feed imports it, the template machinery stays in the lazy chunks.
 */
import { b64StdDecode, b64StdEncode, fromUtf8, utf8 } from "../crypto";

export const INBOX = "inbox";
export const INBOX_KINDS: ReadonlySet<string> = new Set(["alert", "chat", "prenotification", "prenotification_event"]);
const INBOX_LIMIT = 5_000; // newest kept when nobody reads the inbox

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

function load(secrets: Secrets): InboxJson[] {
  const raw = secrets.get(INBOX);
  return raw && raw.length ? (JSON.parse(fromUtf8(raw)) as InboxJson[]) : [];
}

/** Keep an opened item for the records layer (the caller saves the keystore). */
export function keepIncoming(secrets: Secrets, item: Incoming): void {
  if (!INBOX_KINDS.has(item.kind)) return;
  const inbox = [...load(secrets), toJson(item)].slice(-INBOX_LIMIT);
  secrets.set(INBOX, utf8(JSON.stringify(inbox)));
}

/** Everything kept since the last call, emptied from the inbox (the caller saves). */
export function takeIncoming(secrets: Secrets): Incoming[] {
  const items = load(secrets).map(fromJson);
  if (items.length) secrets.set(INBOX, utf8("[]"));
  return items;
}
