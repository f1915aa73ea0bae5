/**
 * `/sync` and websocket stream items (PROTOCOL.md §5.6) and the routing-copy checks a receiver
 * runs before opening one (§7 steps 1–2), as `messaging/routing.py: check_identity`/`check_routing`.
 */

import { b64StdDecode, type Header, type MessageRef, MalformedError, parseEnvelope, routingMismatch, RoutingMismatchError, uuidBytes, type Envelope } from "../crypto";

export const ITEM_KINDS = ["alert", "chat", "prenotification", "prenotification_event", "library", "sender_key", "history_transfer", "membership", "receipt"] as const;
const FIELDS = ["client_msg_id", "created_at", "envelope", "group_id", "kind", "parent_seq", "recipients", "sender_device_id", "sender_user_id", "seq", "urgent"];

/** A stream item's routing copy; everything but `envelope` is the server's word. */
export interface StreamItem {
  group_id: string;
  seq: number;
  kind: (typeof ITEM_KINDS)[number];
  sender_user_id: string | null;
  sender_device_id: string | null;
  recipients: string[] | null;
  client_msg_id: string | null;
  parent_seq: number | null;
  urgent: boolean;
  created_at: string;
  /** Decoded from the item's standard base64. */
  envelope: Uint8Array;
}

const isUuidOrNull = (v: unknown) => v === null || (typeof v === "string" && (uuidBytes(v), true));

/** Parse one item with exactly the fields of §5.6; the shape is refused before any crypto. */
export function parseStreamItem(raw: unknown): StreamItem {
  const o = raw as Record<string, unknown>;
  if (typeof raw !== "object" || raw === null || Object.keys(o).length !== FIELDS.length || !FIELDS.every((f) => Object.hasOwn(o, f))) {
    throw new MalformedError(`stream item: fields must be exactly ${FIELDS.join(", ")}`);
  }
  const seq = o.seq;
  if (typeof seq !== "number" || !Number.isSafeInteger(seq) || seq < 0) throw new MalformedError("stream item: seq must be a non-negative integer");
  if (!(ITEM_KINDS as readonly string[]).includes(o.kind as string)) throw new MalformedError(`stream item seq ${seq}: unknown kind`);
  uuidBytes(o.group_id, `stream item seq ${seq}: group_id`);
  try {
    isUuidOrNull(o.sender_user_id);
    isUuidOrNull(o.sender_device_id);
    if (o.recipients !== null && (!Array.isArray(o.recipients) || !o.recipients.every((r) => isUuidOrNull(r) && r !== null))) throw new Error();
  } catch {
    throw new MalformedError(`stream item seq ${seq}: ids must be canonical UUIDs`);
  }
  if (o.client_msg_id !== null && typeof o.client_msg_id !== "string") throw new MalformedError(`stream item seq ${seq}: client_msg_id must be a string or null`);
  if (o.parent_seq !== null && (typeof o.parent_seq !== "number" || !Number.isSafeInteger(o.parent_seq))) throw new MalformedError(`stream item seq ${seq}: parent_seq must be an integer or null`);
  if (typeof o.urgent !== "boolean" || typeof o.created_at !== "string" || typeof o.envelope !== "string") throw new MalformedError(`stream item seq ${seq}: malformed`);
  let envelope: Uint8Array;
  try {
    envelope = b64StdDecode(o.envelope);
  } catch {
    throw new MalformedError(`stream item seq ${seq}: envelope is not base64`);
  }
  return { ...(o as unknown as StreamItem), envelope };
}

/** §7 step 2, first half: the copy's message id and sender device are the envelope's. */
export function checkIdentity(header: Header, item: StreamItem): void {
  if (item.client_msg_id !== header.messageId) throw new RoutingMismatchError(`routing copy of seq ${item.seq}: client_msg_id is not the envelope's message id`);
  if (item.sender_device_id !== header.senderDeviceId) throw new RoutingMismatchError(`routing copy of seq ${item.seq}: sender_device_id is not the envelope's sender`);
}

/**
 * §7 step 2, second half: kind, urgent and parent against the signed labels. `parent` is the
 * item found at `parent_seq` (the signed target itself when that item is not readable here).
 */
export function checkRouting(header: Header, item: StreamItem, parent: MessageRef | null): void {
  const problem = routingMismatch(header, { kind: item.kind, urgent: item.urgent, parent, hasParent: item.parent_seq !== null });
  if (problem !== null) throw new RoutingMismatchError(`routing copy of seq ${item.seq}: ${problem}`);
}

/** Steps 1–2 for an item carrying an envelope: parse it, check identity and routing copy. */
export function checkedEnvelope(item: StreamItem, parent: MessageRef | null): Envelope {
  const env = parseEnvelope(item.envelope);
  checkIdentity(env.header, item);
  checkRouting(env.header, item, parent);
  return env;
}
