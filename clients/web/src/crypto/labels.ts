/** Content types and the signed label section of an envelope header (PROTOCOL.md §5.2). */

import { type Bytes, concat, uuidBytes, uuidText } from "./bytes";
import { u16be, Reader } from "./encoding";
import { MalformedError } from "./errors";

export const ContentType = {
  MESSAGE: 1,
  ALERT: 2,
  PRENOTIFICATION: 3,
  SENDER_KEY: 4,
  DOCUMENT_KEY: 5,
  LIBRARY_GRANT: 6,
  HISTORY_TRANSFER: 7,
  KEY_REQUEST: 8,
  HISTORY_GRANT: 9,
} as const;
export type ContentTypeValue = (typeof ContentType)[keyof typeof ContentType];

export const CONTENT_NAMES: Record<number, string> = {
  1: "message",
  2: "alert",
  3: "prenotification",
  4: "sender_key",
  5: "document_key",
  6: "library_grant",
  7: "history_transfer",
  8: "key_request",
  9: "history_grant",
};
export const BROADCAST_TYPES: ReadonlySet<number> = new Set([ContentType.MESSAGE, ContentType.ALERT]);

const TAG_URGENT = 1;
const TAG_REPLY_TO = 2;
const TAG_REVIEW_OF = 3;
const TAG_ROLES = 4;
const TAG_CATEGORY = 5;
export const ROLE_DESTINATION = 1;
export const ROLE_TRANSIT = 2;
const TAG_NAMES: Record<number, string> = { 1: "urgent", 2: "reply_to", 3: "review_of", 4: "roles", 5: "category" };
const LABELS_ALLOWED: Record<number, ReadonlySet<number>> = {
  1: new Set([TAG_URGENT, TAG_REPLY_TO, TAG_REVIEW_OF]),
  2: new Set([TAG_URGENT, TAG_REPLY_TO, TAG_REVIEW_OF]),
  3: new Set([TAG_URGENT, TAG_REPLY_TO, TAG_ROLES]),
  5: new Set([TAG_CATEGORY]),
};

/** A stream item named as its sender knows it (canonical UUID texts). */
export interface MessageRef {
  readonly senderDeviceId: string;
  readonly messageId: string;
}

export function refBytes(ref: MessageRef): Bytes {
  return concat(uuidBytes(ref.senderDeviceId), uuidBytes(ref.messageId));
}

export function sameRef(a: MessageRef | null, b: MessageRef | null): boolean {
  return a === b || (!!a && !!b && a.senderDeviceId === b.senderDeviceId && a.messageId === b.messageId);
}

/** What a user sees beside the content, signed with it. */
export interface Labels {
  readonly urgent: boolean;
  readonly replyTo: MessageRef | null;
  readonly reviewOf: MessageRef | null;
  /** `[user_id, role]`, role 1 destination / 2 transit; kept sorted by raw user id. */
  readonly roles: ReadonlyArray<readonly [string, number]>;
  readonly category: string | null;
}

export const NO_LABELS: Labels = { urgent: false, replyTo: null, reviewOf: null, roles: [], category: null };

export function makeLabels(partial: Partial<Labels>): Labels {
  const roles = [...(partial.roles ?? [])].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return { ...NO_LABELS, ...partial, roles };
}

/** The item this one threads under (reply or review), if any. */
export function labelTarget(labels: Labels): MessageRef | null {
  return labels.replyTo ?? labels.reviewOf;
}

export function labelsEqual(a: Labels, b: Labels): boolean {
  return (
    a.urgent === b.urgent &&
    sameRef(a.replyTo, b.replyTo) &&
    sameRef(a.reviewOf, b.reviewOf) &&
    a.category === b.category &&
    a.roles.length === b.roles.length &&
    a.roles.every((r, i) => r[0] === b.roles[i]![0] && r[1] === b.roles[i]![1])
  );
}

/** TLV entries `u8 tag ‖ u16be len ‖ value` in ascending tag order. */
export function encodeLabels(labels: Labels, contentType: number): Bytes {
  const entries: [number, Uint8Array][] = [];
  if (labels.urgent) entries.push([TAG_URGENT, new Uint8Array()]);
  if (labels.replyTo) entries.push([TAG_REPLY_TO, refBytes(labels.replyTo)]);
  if (labels.reviewOf) entries.push([TAG_REVIEW_OF, refBytes(labels.reviewOf)]);
  if (labels.roles.length) {
    const sorted = makeLabels({ roles: labels.roles }).roles;
    entries.push([TAG_ROLES, concat(...sorted.map(([u, role]) => concat(uuidBytes(u), new Uint8Array([role]))))]);
  }
  if (labels.category !== null) entries.push([TAG_CATEGORY, new TextEncoder().encode(labels.category)]);
  const raw = concat(...entries.map(([tag, v]) => concat(new Uint8Array([tag]), u16be(v.length), v)));
  decodeLabels(raw, contentType); // one definition of valid, for building and parsing
  return raw;
}

function roleEntries(value: Uint8Array): [string, number][] {
  if (!value.length || value.length % 17) throw new MalformedError("labels.roles: must be 17-byte (user_id, role) entries");
  const roles: [string, number][] = [];
  let last: string | null = null;
  for (let i = 0; i < value.length; i += 17) {
    const hex = uuidText(value.slice(i, i + 16));
    if (last !== null && hex <= last) throw new MalformedError("labels.roles: user ids must be strictly ascending");
    last = hex;
    roles.push([hex, value[i + 16]!]);
  }
  if (roles.some(([, r]) => r !== ROLE_DESTINATION && r !== ROLE_TRANSIT)) throw new MalformedError("labels.roles: unknown role code");
  return roles;
}

function category(value: Uint8Array): string {
  if (value.length < 1 || value.length > 64 || value.some((b) => b < 0x21 || b > 0x7e)) {
    throw new MalformedError("labels.category: 1..64 printable ASCII bytes");
  }
  return String.fromCharCode(...value);
}

/** Parse and check a label section against what `contentType` may carry. */
export function decodeLabels(raw: Uint8Array, contentType: number): Labels {
  const r = new Reader(raw);
  const found = new Map<number, Uint8Array>();
  let last = 0;
  while (!r.done()) {
    const tag = r.u8();
    const value = r.varField(2);
    if (!(tag in TAG_NAMES)) throw new MalformedError(`labels: unknown tag ${tag}`);
    if (tag <= last) throw new MalformedError("labels: tags must be strictly ascending");
    if (!LABELS_ALLOWED[contentType]?.has(tag)) {
      const name = CONTENT_NAMES[contentType] ?? String(contentType);
      throw new MalformedError(`labels.${TAG_NAMES[tag]}: not allowed on ${name} content`);
    }
    last = tag;
    found.set(tag, value);
  }
  if (found.get(TAG_URGENT)?.length) throw new MalformedError("labels.urgent: must be empty");
  const refs = new Map<number, MessageRef>();
  for (const tag of [TAG_REPLY_TO, TAG_REVIEW_OF]) {
    const value = found.get(tag);
    if (value) {
      if (value.length !== 32) throw new MalformedError(`labels.${TAG_NAMES[tag]}: must be 32 bytes`);
      refs.set(tag, { senderDeviceId: uuidText(value.slice(0, 16)), messageId: uuidText(value.slice(16)) });
    }
  }
  if (refs.size === 2) throw new MalformedError("labels: an item is a reply or a review, not both");
  const roles = found.get(TAG_ROLES);
  const cat = found.get(TAG_CATEGORY);
  return {
    urgent: found.has(TAG_URGENT),
    replyTo: refs.get(TAG_REPLY_TO) ?? null,
    reviewOf: refs.get(TAG_REVIEW_OF) ?? null,
    roles: roles ? roleEntries(roles) : [],
    category: cat ? category(cat) : null,
  };
}
