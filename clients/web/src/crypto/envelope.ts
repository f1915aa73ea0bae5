/**
 * The v2 envelope layout, wraps and padding (PROTOCOL.md §5.1, §5.3, §5.4), the routing-copy
 * check (§5.5) and the signed receipt input (§7.2), as `wire/envelope.py`. No keys here.
 */

import { type Bytes, concat, uuidBytes, uuidText } from "./bytes";
import { label, PROTOCOL_VERSION, sigInput, u32be } from "./encoding";
import { MalformedError, UnsupportedVersionError } from "./errors";
import { BROADCAST_TYPES, CONTENT_NAMES, ContentType, decodeLabels, encodeLabels, type Labels, labelTarget, type MessageRef, NO_LABELS, sameRef } from "./labels";
import { sha256Large } from "./primitives";

export const TARGETED = 1;
export const BROADCAST = 2;
export const PREKEY_SIGNED = 1;
export const PREKEY_ONE_TIME = 2;
export const HEADER_FIXED = 96;
export const LABELS_MAX = 1024;
export const SIG_SIZE = 64;
export const TAG_SIZE = 16;
export const MAX_RECIPIENTS = 4096;
export const MAX_BODY = 64 * 1024 * 1024;
export const MIN_BUCKET = 256;
export const LARGE_STEP = 64 * 1024;
export const BROADCAST_KEYING_SIZE = 20;
export const HPKE_ENC_SIZE = 32;
export const HPKE_CT_SIZE = 48;
export const WRAP_SIZE = 1 + 4 + HPKE_ENC_SIZE + HPKE_CT_SIZE;
const MAGIC = [0x43, 0x58, 0x4d]; // "CXM"

// ---- §5.4 padding ------------------------------------------------------------------------

export function isBucket(size: number): boolean {
  if (size <= LARGE_STEP) return size >= MIN_BUCKET && (size & (size - 1)) === 0;
  return size % LARGE_STEP === 0;
}

export function paddedSize(contentLength: number): number {
  const need = contentLength + 4;
  if (need > MAX_BODY) throw new MalformedError("content too large for one envelope; use a document");
  let size = MIN_BUCKET;
  while (size < need && size < LARGE_STEP) size *= 2;
  if (need > size) size = Math.ceil(need / LARGE_STEP) * LARGE_STEP;
  return size;
}

/** `u32be(len) ‖ content ‖ zeros` up to the bucket. */
export function pad(content: Uint8Array): Bytes {
  const out = new Uint8Array(paddedSize(content.length));
  out.set(u32be(content.length));
  out.set(content, 4);
  return out;
}

/** Strip padding; refuse a length that overruns or a fill that is not zero (wire messages). */
export function unpad(padded: Uint8Array): Bytes {
  if (padded.length < 4) throw new MalformedError("padding: shorter than its length prefix");
  const n = new DataView(padded.buffer, padded.byteOffset, 4).getUint32(0);
  if (n > padded.length - 4) throw new MalformedError("padding: length overruns the body");
  for (let i = 4 + n; i < padded.length; i++) if (padded[i] !== 0) throw new MalformedError("padding: fill is not zero");
  return padded.slice(4, 4 + n);
}

// ---- §5.1 layout -------------------------------------------------------------------------

export interface Header {
  readonly version: number;
  readonly kind: number;
  readonly contentType: number;
  readonly groupId: string;
  readonly epochId: Bytes;
  readonly senderDeviceId: string;
  readonly messageId: string;
  /** Signed timestamp, ms. */
  readonly ts: number;
  readonly recipients: readonly string[];
  readonly labels: Labels;
  readonly raw: Bytes;
}

export interface Wrap {
  readonly prekeyType: number;
  readonly prekeyId: number;
  readonly enc: Bytes;
  readonly ct: Bytes;
}

export function wrapBytes(w: Wrap): Bytes {
  return concat(new Uint8Array([w.prekeyType]), u32be(w.prekeyId), w.enc, w.ct);
}

export function parseWrap(raw: Uint8Array): Wrap {
  if (raw.length !== WRAP_SIZE) throw new MalformedError(`wrap: must be ${WRAP_SIZE} bytes`);
  if (raw[0] !== PREKEY_SIGNED && raw[0] !== PREKEY_ONE_TIME) throw new MalformedError(`wrap: unknown prekey type ${raw[0]}`);
  const id = new DataView(raw.buffer, raw.byteOffset + 1, 4).getUint32(0);
  return { prekeyType: raw[0], prekeyId: id, enc: raw.slice(5, 37), ct: raw.slice(37) };
}

export class Envelope {
  constructor(
    readonly header: Header,
    readonly keying: Bytes,
    readonly ciphertext: Bytes,
    readonly signature: Bytes,
  ) {}

  /** What the sender device signed. */
  signingInput(): Promise<Bytes> {
    return envelopeSigningInput(this.header.raw, this.keying, this.ciphertext);
  }

  wraps(): Wrap[] {
    const out: Wrap[] = [];
    for (let i = 0; i < this.keying.length; i += WRAP_SIZE) out.push(parseWrap(this.keying.slice(i, i + WRAP_SIZE)));
    return out;
  }

  /** This recipient's wrap, or null if the device is not a recipient. */
  wrapFor(deviceId: string): Wrap | null {
    const slot = this.header.recipients.indexOf(deviceId);
    return slot < 0 ? null : parseWrap(this.keying.slice(slot * WRAP_SIZE, (slot + 1) * WRAP_SIZE));
  }

  /** (chain_id, index) of a broadcast's keying section. */
  broadcastPosition(): [string, number] {
    return [uuidText(this.keying.slice(0, 16)), new DataView(this.keying.buffer, this.keying.byteOffset + 16, 4).getUint32(0)];
  }
}

const bad = (reason: string) => new MalformedError(`envelope: ${reason}`);

function parseHeaderBytes(data: Uint8Array): Header {
  if (data.length < HEADER_FIXED) throw bad("shorter than the fixed header");
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (data[0] !== MAGIC[0] || data[1] !== MAGIC[1] || data[2] !== MAGIC[2]) throw bad("bad magic");
  const [ver, kind, ctype] = [data[3]!, data[4]!, data[5]!];
  if (ver !== PROTOCOL_VERSION) throw new UnsupportedVersionError(`envelope: version ${ver} is not supported`);
  if (kind !== TARGETED && kind !== BROADCAST) throw bad(`unknown kind ${kind}`);
  if (!(ctype in CONTENT_NAMES)) throw bad(`unknown content type ${ctype}`);
  const n = view.getUint16(94);
  if (kind === BROADCAST && (n !== 0 || !BROADCAST_TYPES.has(ctype))) {
    throw bad("a broadcast is for the whole group and carries message or alert content");
  }
  if (kind === TARGETED && !(n >= 1 && n <= MAX_RECIPIENTS)) throw bad(`a targeted envelope needs 1..${MAX_RECIPIENTS} recipients`);
  const pos = HEADER_FIXED + 16 * n;
  if (data.length < pos + 2) throw bad("truncated");
  const recipients: string[] = [];
  for (let o = HEADER_FIXED; o < pos; o += 16) recipients.push(uuidText(data.slice(o, o + 16)));
  if (new Set(recipients).size !== n) throw bad("duplicate recipient");
  const llen = view.getUint16(pos);
  if (llen > LABELS_MAX || data.length < pos + 2 + llen) throw bad("label section too long or truncated");
  const labels = decodeLabels(data.slice(pos + 2, pos + 2 + llen), ctype);
  const ts = view.getBigUint64(86);
  if (ts > BigInt(Number.MAX_SAFE_INTEGER)) throw bad("timestamp out of range");
  return {
    version: ver,
    kind,
    contentType: ctype,
    groupId: uuidText(data.slice(6, 22)),
    epochId: data.slice(22, 54) as Bytes,
    senderDeviceId: uuidText(data.slice(54, 70)),
    messageId: uuidText(data.slice(70, 86)),
    ts: Number(ts),
    recipients,
    labels,
    raw: data.slice(0, pos + 2 + llen) as Bytes,
  };
}

/** Only the signed header (the rest unchecked): for routing lookups. */
export function parseHeader(data: Uint8Array): Header {
  return parseHeaderBytes(data);
}

/** Check the whole v2 layout without keys and split it (`wire.parse_envelope`). */
export function parseEnvelope(data: Uint8Array): Envelope {
  const header = parseHeaderBytes(data);
  const hlen = header.raw.length;
  const n = header.recipients.length;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (data.length < hlen + 8 + SIG_SIZE) throw bad("truncated");
  const klen = view.getUint32(hlen);
  const want = header.kind === TARGETED ? WRAP_SIZE * n : BROADCAST_KEYING_SIZE;
  if (klen !== want) throw bad("keying section has the wrong length");
  const cpos = hlen + 4 + klen;
  if (data.length < cpos + 4) throw bad("truncated");
  const clen = view.getUint32(cpos);
  if (clen < TAG_SIZE || !isBucket(clen - TAG_SIZE) || clen - TAG_SIZE > MAX_BODY) throw bad("ciphertext is not a padded bucket size");
  if (data.length !== cpos + 4 + clen + SIG_SIZE) throw bad("length does not match its sections");
  const env = new Envelope(header, data.slice(hlen + 4, cpos) as Bytes, data.slice(cpos + 4, data.length - SIG_SIZE) as Bytes, data.slice(data.length - SIG_SIZE) as Bytes);
  if (header.kind === TARGETED) env.wraps(); // every prekey type is checked, not only the reader's
  return env;
}

export interface HeaderFields {
  kind: number;
  contentType: number;
  groupId: string;
  epochId: Uint8Array;
  senderDeviceId: string;
  messageId: string;
  ts: number;
  recipients?: readonly string[];
  labels?: Labels;
}

/** Lay out the signed header exactly as §5.1 specifies. */
export function encodeHeader(h: HeaderFields): Bytes {
  if (h.epochId.length !== 32) throw new MalformedError("epoch_id: must be 32 bytes");
  const recipients = h.recipients ?? [];
  const rawLabels = encodeLabels(h.labels ?? NO_LABELS, h.contentType);
  const fixed = new Uint8Array(HEADER_FIXED);
  const view = new DataView(fixed.buffer);
  fixed.set(MAGIC, 0);
  fixed.set([PROTOCOL_VERSION, h.kind, h.contentType], 3);
  fixed.set(uuidBytes(h.groupId), 6);
  fixed.set(h.epochId, 22);
  fixed.set(uuidBytes(h.senderDeviceId), 54);
  fixed.set(uuidBytes(h.messageId), 70);
  view.setBigUint64(86, BigInt(h.ts));
  view.setUint16(94, recipients.length);
  const lenLabels = new Uint8Array(2);
  new DataView(lenLabels.buffer).setUint16(0, rawLabels.length);
  return concat(fixed, ...recipients.map((r) => uuidBytes(r)), lenLabels, rawLabels);
}

/** `sig_input("envelope", header, SHA-256(keying), SHA-256(ciphertext))`. */
export async function envelopeSigningInput(header: Uint8Array, keying: Uint8Array, ciphertext: Uint8Array): Promise<Bytes> {
  return sigInput("envelope", header, await sha256Large(keying), await sha256Large(ciphertext));
}

/** AES-GCM associated data of the body: `label("content") ‖ header`. */
export function contentAad(header: Uint8Array): Bytes {
  return concat(label("content"), header);
}

/** HPKE `info` binding a wrap to the header, one recipient device and one prekey. */
export function wrapInfo(headerHash: Uint8Array, deviceId: string, prekeyType: number, prekeyId: number): Bytes {
  return sigInput("wrap", headerHash, uuidBytes(deviceId), prekeyType, prekeyId);
}

export function assemble(header: Uint8Array, keying: Uint8Array, ciphertext: Uint8Array, signature: Uint8Array): Bytes {
  if (signature.length !== SIG_SIZE) throw new MalformedError("signature: must be 64 bytes");
  return concat(header, u32be(keying.length), keying, u32be(ciphertext.length), ciphertext, signature);
}

// ---- §5.5 routing copy -------------------------------------------------------------------

export const POSTED_KIND: Record<number, string> = {
  [ContentType.MESSAGE]: "chat",
  [ContentType.ALERT]: "alert",
  [ContentType.PRENOTIFICATION]: "prenotification",
  [ContentType.SENDER_KEY]: "sender_key",
  [ContentType.DOCUMENT_KEY]: "library",
  [ContentType.LIBRARY_GRANT]: "library",
  [ContentType.HISTORY_TRANSFER]: "history_transfer",
  [ContentType.KEY_REQUEST]: "sender_key",
  [ContentType.HISTORY_GRANT]: "library",
};

const pyBool = (b: boolean) => (b ? "True" : "False");

/**
 * Where a routing copy disagrees with the signed header, as `field: reason`, or null
 * (`wire.routing_mismatch`; messages byte-identical to Python's).
 */
export function routingMismatch(header: Header, copy: { kind: string; urgent: boolean; parent: MessageRef | null; hasParent: boolean }): string | null {
  if (copy.kind !== POSTED_KIND[header.contentType]) {
    return `kind: '${copy.kind}' but the envelope is signed as ${CONTENT_NAMES[header.contentType]}`;
  }
  if (copy.urgent !== header.labels.urgent) {
    return `urgent: ${pyBool(copy.urgent)} but the envelope is signed urgent=${pyBool(header.labels.urgent)}`;
  }
  const target = labelTarget(header.labels);
  if (target === null && copy.hasParent) return "parent_seq: set but the envelope names no reply or review target";
  if (target !== null && !copy.hasParent) return "parent_seq: missing but the envelope names a reply or review target";
  if (target !== null && !sameRef(copy.parent, target)) return "parent_seq: names another item than the envelope's signed target";
  return null;
}

// ---- §7.2 receipts -----------------------------------------------------------------------

export const RECEIPT_STATUSES = ["delivered", "read"] as const;
export type ReceiptStatus = (typeof RECEIPT_STATUSES)[number];

/** What a receipting device signs: which item (as its sender named it), who, how far, when. */
export function receiptSigningInput(r: { groupId: string; item: MessageRef; deviceId: string; status: string; ts: number }): Bytes {
  if (!(RECEIPT_STATUSES as readonly string[]).includes(r.status)) {
    throw new MalformedError(`receipt.status: '${r.status}' is not delivered or read`);
  }
  return sigInput("receipt", uuidBytes(r.groupId), uuidBytes(r.item.senderDeviceId), uuidBytes(r.item.messageId), uuidBytes(r.deviceId), r.status, r.ts);
}
