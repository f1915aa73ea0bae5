/** Labels and the canonical length-prefixed encoding (PROTOCOL.md §2.1), as `wire/encoding.py`. */

import { type Bytes, utf8 } from "./bytes";
import { MalformedError } from "./errors";

export const PROTOCOL_VERSION = 2;
export const JSON_INT_MAX = 2 ** 53 - 1;
const U64_LIMIT = 1n << 64n;

/**
 * One field of `enc`: bytes as is, text as UTF-8, integers (number or bigint) as u64be.
 * UUIDs are passed as their 16 raw bytes (`uuidBytes`), so text and ids never collide.
 */
export type Field = Uint8Array | string | number | bigint;

const labels = new Map<string, Bytes>();

/** `"CXM/2/" ‖ purpose ‖ 0x00`: one key, one purpose. */
export function label(purpose: string): Bytes {
  let found = labels.get(purpose);
  if (!found) {
    found = utf8(`CXM/2/${purpose}\0`);
    labels.set(purpose, found);
  }
  return found.slice();
}

export function u32be(n: number): Bytes {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n);
  return out;
}

export function u16be(n: number): Bytes {
  const out = new Uint8Array(2);
  new DataView(out.buffer).setUint16(0, n);
  return out;
}

export function u64be(value: number | bigint): Bytes {
  const big = typeof value === "bigint" ? value : Number.isSafeInteger(value) ? BigInt(value) : -1n;
  if (big < 0n || big >= U64_LIMIT) throw new MalformedError("integer field out of range (u64)");
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, big);
  return out;
}

/** One field's canonical bytes. */
export function fieldBytes(value: Field): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (typeof value === "string") return utf8(value);
  return u64be(value);
}

/** Write `value` as u64be at `pos` (a safe integer or a bigint below 2^64). */
function writeU64(out: Uint8Array, pos: number, value: number | bigint): void {
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) {
    const hi = Math.floor(value / 0x1_0000_0000);
    const lo = value >>> 0;
    out[pos] = hi >>> 24;
    out[pos + 1] = (hi >>> 16) & 255;
    out[pos + 2] = (hi >>> 8) & 255;
    out[pos + 3] = hi & 255;
    out[pos + 4] = lo >>> 24;
    out[pos + 5] = (lo >>> 16) & 255;
    out[pos + 6] = (lo >>> 8) & 255;
    out[pos + 7] = lo & 255;
    return;
  }
  out.set(u64be(value), pos);
}

/** `prefix ‖ enc(fields)` written into one buffer (the hot path of every hash and signature). */
function encodeInto(prefix: Uint8Array | null, fields: Field[]): Bytes {
  const raws: (Uint8Array | number | bigint)[] = fields.map((f) => (typeof f === "string" ? utf8(f) : f));
  let total = prefix ? prefix.length : 0;
  for (const r of raws) total += 4 + (r instanceof Uint8Array ? r.length : 8);
  const out = new Uint8Array(total);
  let pos = 0;
  if (prefix) {
    out.set(prefix);
    pos = prefix.length;
  }
  for (const r of raws) {
    const len = r instanceof Uint8Array ? r.length : 8;
    out[pos] = len >>> 24;
    out[pos + 1] = (len >>> 16) & 255;
    out[pos + 2] = (len >>> 8) & 255;
    out[pos + 3] = len & 255;
    pos += 4;
    if (r instanceof Uint8Array) out.set(r, pos);
    else writeU64(out, pos, r);
    pos += len;
  }
  return out;
}

/** `u32be(len) ‖ bytes` per field, so no two field lists encode alike. */
export function enc(...fields: Field[]): Bytes {
  return encodeInto(null, fields);
}

/** The exact bytes signed, or used as HPKE/KDF `info`, for one purpose. */
export function sigInput(purpose: string, ...fields: Field[]): Bytes {
  if (!labels.has(purpose)) label(purpose);
  return encodeInto(labels.get(purpose)!, fields);
}

/** Split `enc` output back into raw fields, refusing truncation and trailing bytes. */
export function dec(data: Uint8Array): Bytes[] {
  const r = new Reader(data);
  const out: Bytes[] = [];
  while (!r.done()) out.push(r.varField(4));
  return out;
}

/** A u64 field (8 bytes) as a number; values beyond 2^53−1 are refused as malformed. */
export function fieldInt(raw: Uint8Array): number {
  if (raw.length !== 8) throw new MalformedError("integer field must be 8 bytes");
  const big = new DataView(raw.buffer, raw.byteOffset, 8).getBigUint64(0);
  if (big > BigInt(Number.MAX_SAFE_INTEGER)) throw new MalformedError("integer field too large");
  return Number(big);
}

/** Bounds-checked cursor over binary input; an overrun is MalformedError("input truncated"). */
export class Reader {
  private pos = 0;
  private readonly view: DataView;
  constructor(private readonly data: Uint8Array) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  }
  take(n: number): Bytes {
    const end = this.pos + n;
    if (n < 0 || end > this.data.length) throw new MalformedError("input truncated");
    const out = this.data.slice(this.pos, end) as Bytes;
    this.pos = end;
    return out;
  }
  u8(): number {
    if (this.pos + 1 > this.data.length) throw new MalformedError("input truncated");
    return this.data[this.pos++]!;
  }
  u16(): number {
    if (this.pos + 2 > this.data.length) throw new MalformedError("input truncated");
    const v = this.view.getUint16(this.pos);
    this.pos += 2;
    return v;
  }
  u32(): number {
    if (this.pos + 4 > this.data.length) throw new MalformedError("input truncated");
    const v = this.view.getUint32(this.pos);
    this.pos += 4;
    return v;
  }
  /** A field prefixed by its length in `width` (2 or 4) bytes. */
  varField(width: 2 | 4): Bytes {
    return this.take(width === 2 ? this.u16() : this.u32());
  }
  offset(): number {
    return this.pos;
  }
  done(): boolean {
    return this.pos === this.data.length;
  }
  end(): void {
    if (!this.done()) throw new MalformedError("unexpected trailing bytes");
  }
}
