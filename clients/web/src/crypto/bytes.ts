/** Byte helpers: hex, strict unpadded base64url, UTF-8, UUIDs, constant-time compare. */

import { MalformedError } from "./errors";

export type Bytes = Uint8Array<ArrayBuffer>;

const textEncoder = new TextEncoder();
const strictDecoder = new TextDecoder("utf-8", { fatal: true });

export function utf8(text: string): Bytes {
  return textEncoder.encode(text) as Bytes;
}

/** Decode UTF-8, refusing invalid sequences (MalformedError naming `what`). */
export function fromUtf8(data: Uint8Array, what = "text"): string {
  try {
    return strictDecoder.decode(data);
  } catch {
    throw new MalformedError(`${what}: not UTF-8`);
  }
}

export function concat(...parts: Uint8Array[]): Bytes {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

export function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Compare secrets and MACs without an early exit on the first differing byte. */
export function ctEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

export function toHex(data: Uint8Array): string {
  let out = "";
  for (const b of data) out += HEX[b];
  return out;
}

const HEX_VALUES = new Int8Array(128).fill(-1);
for (const [i, c] of [..."0123456789abcdef"].entries()) {
  HEX_VALUES[c.charCodeAt(0)] = i;
  HEX_VALUES[c.toUpperCase().charCodeAt(0)] = i;
}

export function fromHex(text: string): Bytes {
  if (text.length % 2) throw new MalformedError("hex: invalid");
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) {
    const hi = HEX_VALUES[text.charCodeAt(2 * i)] ?? -1;
    const lo = HEX_VALUES[text.charCodeAt(2 * i + 1)] ?? -1;
    if (hi < 0 || lo < 0) throw new MalformedError("hex: invalid");
    out[i] = (hi << 4) | lo;
  }
  return out;
}

const B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const B64STD = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

function b64encode(data: Uint8Array, alphabet: string, pad: boolean): string {
  let out = "";
  let i = 0;
  for (; i + 2 < data.length; i += 3) {
    const n = (data[i]! << 16) | (data[i + 1]! << 8) | data[i + 2]!;
    out += alphabet[n >> 18]! + alphabet[(n >> 12) & 63]! + alphabet[(n >> 6) & 63]! + alphabet[n & 63]!;
  }
  const rest = data.length - i;
  if (rest === 1) {
    const n = data[i]! << 16;
    out += alphabet[n >> 18]! + alphabet[(n >> 12) & 63]! + (pad ? "==" : "");
  } else if (rest === 2) {
    const n = (data[i]! << 16) | (data[i + 1]! << 8);
    out += alphabet[n >> 18]! + alphabet[(n >> 12) & 63]! + alphabet[(n >> 6) & 63]! + (pad ? "=" : "");
  }
  return out;
}

/** Unpadded base64url, the one text form of bytes in JSON (PROTOCOL §2.1). */
export function b64e(data: Uint8Array): string {
  return b64encode(data, B64URL, false);
}

/** Standard padded base64 (the `/sync` item's `envelope`). */
export function b64StdEncode(data: Uint8Array): string {
  return b64encode(data, B64STD, true);
}

const B64_INDEX = new Map<string, number>([
  ...[...B64URL].map((c, i): [string, number] => [c, i]),
  ["+", 62],
  ["/", 63],
]);

/**
 * Strict unpadded base64url, exactly as `wire.b64d`: padding, the other alphabet, non-canonical
 * trailing bits and (when `length` is given) a wrong length are refused, with its messages.
 */
export function b64d(text: unknown, length: number | null = null, what = "field"): Bytes {
  if (typeof text !== "string" || text.includes("=") || /[^\x00-\x7f]/.test(text)) {
    throw new MalformedError(`${what}: expected unpadded base64url text`);
  }
  const fast = decodeUrlAlphabet(text, what);
  const out = fast ?? decodeLikePython(text, what);
  if (fast === null && b64e(out) !== text) throw new MalformedError(`${what}: non-canonical base64url`);
  if (length !== null && out.length !== length) {
    throw new MalformedError(`${what}: expected ${length} bytes, got ${out.length}`);
  }
  return out;
}

const URL_VALUES = new Int8Array(128).fill(-1);
for (const [i, c] of [...B64URL].entries()) URL_VALUES[c.charCodeAt(0)] = i;

/**
 * The common case: only URL-alphabet characters. Returns null when another character occurs
 * (then Python's lenient-decode-and-compare rules decide the message).
 */
function decodeUrlAlphabet(text: string, what: string): Bytes | null {
  const values = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const v = URL_VALUES[text.charCodeAt(i)]!;
    if (v < 0) return null;
    values[i] = v;
  }
  const [out, leftover] = packSextets(values, what);
  if (leftover) throw new MalformedError(`${what}: non-canonical base64url`);
  return out;
}

function decodeLikePython(text: string, what: string): Bytes {
  // Python's decoder skips characters outside both alphabets, then the caller re-encodes to compare.
  const values: number[] = [];
  for (const ch of text) {
    const v = B64_INDEX.get(ch);
    if (v !== undefined) values.push(v);
  }
  return packSextets(values, what)[0];
}

/** 6-bit values → bytes, and the unused trailing bits (non-zero: not canonical). */
function packSextets(values: ArrayLike<number>, what: string): [Bytes, number] {
  if (values.length % 4 === 1) throw new MalformedError(`${what}: invalid base64url`);
  const out = new Uint8Array(Math.floor((values.length * 6) / 8));
  let acc = 0;
  let bits = 0;
  let pos = 0;
  for (let i = 0; i < values.length; i++) {
    acc = ((acc << 6) | values[i]!) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[pos++] = (acc >> bits) & 0xff;
    }
  }
  return [out, acc & ((1 << bits) - 1)];
}

/** Standard base64 with padding (lenient about nothing: used for server `envelope` fields). */
export function b64StdDecode(text: string): Bytes {
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Canonical lowercase UUID text → 16 raw bytes; anything else is refused (naming `what`). */
export function uuidBytes(text: unknown, what = "id"): Bytes {
  if (typeof text !== "string") throw new MalformedError(`${what}: expected a UUID string`);
  if (!UUID_RE.test(text)) {
    if (UUID_RE.test(text.toLowerCase())) {
      throw new MalformedError(`${what}: UUID not in canonical lowercase form`);
    }
    throw new MalformedError(`${what}: not a UUID`);
  }
  return fromHex(text.replaceAll("-", ""));
}

/** 16 raw bytes → canonical lowercase UUID text. */
export function uuidText(raw: Uint8Array): string {
  if (raw.length !== 16) throw new MalformedError("uuid: expected 16 bytes");
  const h = toHex(raw);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** CSPRNG bytes (WebCrypto fills at most 65,536 bytes per call). */
export function randomBytes(n: number): Bytes {
  const out = new Uint8Array(n);
  for (let pos = 0; pos < n; pos += 65_536) crypto.getRandomValues(out.subarray(pos, Math.min(n, pos + 65_536)));
  return out;
}

/** A random (version 4) UUID as canonical text. */
export function randomUuid(): string {
  return crypto.randomUUID();
}
