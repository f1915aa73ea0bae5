/**
 * Document manifests and STREAM segment encryption (PROTOCOL.md §8.1–8.2), as
 * `crypto/stream.py`; document-key records, library grants and history grants (§8.3, §9.1),
 * as `crypto/history.py`.
 */

import { type Bytes, concat, ctEqual, fromUtf8, randomBytes, uuidBytes, uuidText } from "./bytes";
import { dec, enc, fieldInt, label, sigInput, u32be } from "./encoding";
import { DecryptionError, MalformedError, TruncatedError, UnsupportedVersionError } from "./errors";
import { aesGcmDecrypt, aesGcmEncrypt, hkdfSha256, sha256, sign, type SigningKey, verifySig } from "./primitives";

export const MANIFEST_VERSION = 2;
export const CATEGORIES = ["newsletter", "daily_report", "analysis_report", "right_holder_material", "best_practice", "training", "other"] as const;
export const NO_EPOCH: Bytes = new Uint8Array(32);
export const MIN_SEGMENT = 64 * 1024;
export const MAX_SEGMENT = 1024 * 1024;
export const NONCE_PREFIX_LEN = 7;
const TAG = 16;
const ZERO_NONCE = new Uint8Array(12);

const subkey = (docKey: Uint8Array, purpose: string) => hkdfSha256(docKey, label(purpose), 32);

/** Commits the manifest to one key (AES-GCM alone does not). */
export function keyCommitment(docKey: Uint8Array, groupId: string, documentId: string, version: number): Bytes {
  return hkdfSha256(docKey, sigInput("doc-key-commit", uuidBytes(groupId), uuidBytes(documentId), version), 32);
}

const metaAad = (groupId: string, documentId: string, version: number) => sigInput("doc-meta", uuidBytes(groupId), uuidBytes(documentId), version);

export class Manifest {
  constructor(
    readonly groupId: string,
    readonly documentId: string,
    readonly version: number,
    readonly category: string,
    readonly uploaderDeviceId: string,
    readonly epochId: Bytes,
    readonly ts: number,
    readonly segmentSize: number,
    readonly noncePrefix: Bytes,
    readonly keyCommitment: Bytes,
    readonly encryptedMeta: Bytes,
    readonly signature: Bytes = new Uint8Array(),
  ) {}

  private fields() {
    return [MANIFEST_VERSION, uuidBytes(this.groupId), uuidBytes(this.documentId), this.version, this.category, uuidBytes(this.uploaderDeviceId), this.epochId, this.ts, this.segmentSize, this.noncePrefix, this.keyCommitment, this.encryptedMeta] as const;
  }
  signedBytes(): Bytes {
    return sigInput("manifest", ...this.fields());
  }
  manifestHash(): Bytes {
    return sha256(this.signedBytes());
  }
  toBytes(): Bytes {
    return enc(...this.fields(), this.signature);
  }

  /** Parse strictly: 13 fields, v = 2, the lengths of §8.1, a known category. */
  static fromBytes(data: Uint8Array): Manifest {
    const f = dec(data);
    if (f.length !== 13) throw new MalformedError(`manifest has ${f.length} fields, expected 13`);
    const v = f[0]!;
    if (v.length !== 8 || fieldIntLoose(v) !== MANIFEST_VERSION) {
      if (v.length === 8) throw new UnsupportedVersionError(`manifest version ${fieldIntLoose(v)} is not supported`);
      throw new MalformedError("manifest field v is malformed");
    }
    for (const [i, name] of [[1, "group_id"], [2, "document_id"], [5, "uploader_device_id"]] as const) if (f[i]!.length !== 16) throw new MalformedError(`manifest field ${name} is not 16 bytes`);
    for (const [i, name] of [[6, "epoch_id"], [10, "key_commitment"]] as const) if (f[i]!.length !== 32) throw new MalformedError(`manifest field ${name} is not 32 bytes`);
    const [version, ts, seg] = [f[3]!, f[7]!, f[8]!].map(fieldInt) as [number, number, number];
    const category = new TextDecoder("latin1").decode(f[4]!).replace(/[^\x00-\x7f]/g, "\ufffd");
    if (!(CATEGORIES as readonly string[]).includes(category)) throw new MalformedError(`manifest category '${category}' is not a known category`);
    if (seg < MIN_SEGMENT || seg > MAX_SEGMENT) throw new MalformedError(`manifest segment_size ${seg} is out of range`);
    if (f[9]!.length !== NONCE_PREFIX_LEN) throw new MalformedError("manifest field nonce_prefix is not 7 bytes");
    if (f[12]!.length !== 64) throw new MalformedError("manifest signature is not 64 bytes");
    return new Manifest(uuidText(f[1]!), uuidText(f[2]!), version, category, uuidText(f[5]!), f[6]!, ts, seg, f[9]!, f[10]!, f[11]!, f[12]!);
  }
}

function fieldIntLoose(raw: Uint8Array): string | number {
  const big = new DataView(raw.buffer, raw.byteOffset, 8).getBigUint64(0);
  return big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big.toString();
}

/** Encrypt the name and type and sign the manifest as the uploading device. */
export async function createManifest(a: {
  docKey: Uint8Array;
  signingKey: SigningKey;
  groupId: string;
  documentId: string;
  version: number;
  uploaderDeviceId: string;
  ts: number;
  name: string;
  mediaType: string;
  category?: string;
  epochId?: Uint8Array;
  segmentSize?: number;
  noncePrefix?: Uint8Array;
}): Promise<Manifest> {
  const seg = a.segmentSize ?? MIN_SEGMENT;
  const category = a.category ?? "other";
  if (seg < MIN_SEGMENT || seg > MAX_SEGMENT) throw new RangeError("segment_size must be between 64 KiB and 1 MiB");
  if (!(CATEGORIES as readonly string[]).includes(category)) throw new RangeError(`category must be one of ${CATEGORIES.join(", ")}`);
  const meta = await aesGcmEncrypt(subkey(a.docKey, "doc-meta"), ZERO_NONCE, enc(a.name, a.mediaType), metaAad(a.groupId, a.documentId, a.version));
  const args = [a.groupId, a.documentId, a.version, category, a.uploaderDeviceId, (a.epochId ?? NO_EPOCH) as Bytes, a.ts, seg, (a.noncePrefix ?? randomBytes(NONCE_PREFIX_LEN)) as Bytes, keyCommitment(a.docKey, a.groupId, a.documentId, a.version), meta] as const;
  const unsigned = new Manifest(...args);
  return new Manifest(...args, await sign(a.signingKey, unsigned.signedBytes()));
}

export async function verifyManifest(m: Manifest, uploaderSigningKey: Uint8Array): Promise<void> {
  await verifySig(uploaderSigningKey, m.signature, m.signedBytes(), "manifest");
}

export function checkKeyCommitment(m: Manifest, docKey: Uint8Array): void {
  if (!ctEqual(keyCommitment(docKey, m.groupId, m.documentId, m.version), m.keyCommitment)) {
    throw new DecryptionError(`the key for document ${m.documentId} version ${m.version} is not the one its signed manifest commits to`);
  }
}

export async function decryptMetadata(m: Manifest, docKey: Uint8Array): Promise<[string, string]> {
  try {
    const raw = await aesGcmDecrypt(subkey(docKey, "doc-meta"), ZERO_NONCE, m.encryptedMeta, metaAad(m.groupId, m.documentId, m.version));
    const f = dec(raw);
    if (f.length !== 2) throw new MalformedError("meta");
    return [fromUtf8(f[0]!), fromUtf8(f[1]!)];
  } catch {
    throw new DecryptionError("document metadata could not be decrypted");
  }
}

function streamNonce(prefix: Uint8Array, counter: number, last: boolean): Bytes {
  if (counter >= 2 ** 32) throw new RangeError("document has too many segments");
  return concat(prefix, u32be(counter), new Uint8Array([last ? 1 : 0]));
}

/** Shared STREAM state: the segment key, nonce prefix, counter and a buffer of at most a segment. */
abstract class Stream {
  protected counter = 0;
  protected buf: Uint8Array = new Uint8Array();
  protected done = false;
  protected readonly key: Bytes;
  protected readonly aad: Bytes;
  constructor(
    docKey: Uint8Array,
    protected readonly manifest: Manifest,
  ) {
    this.key = subkey(docKey, "stream");
    this.aad = manifest.manifestHash();
  }
  protected nonce(last: boolean): Bytes {
    return streamNonce(this.manifest.noncePrefix, this.counter, last);
  }
  protected checkOpen(): void {
    if (this.done) throw new Error("stream already finalised");
  }
}

/** Encrypt a document incrementally (§8.2); memory stays at about one segment. */
export class StreamEncryptor extends Stream {
  /** Absorb plaintext; return every segment that is certainly not the last. */
  async update(data: Uint8Array): Promise<Bytes> {
    this.checkOpen();
    this.buf = concat(this.buf, data);
    const seg = this.manifest.segmentSize;
    const out: Uint8Array[] = [];
    let pos = 0;
    while (this.buf.length - pos > seg) {
      out.push(await aesGcmEncrypt(this.key, this.nonce(false), this.buf.subarray(pos, pos + seg), this.aad));
      this.counter++;
      pos += seg;
    }
    this.buf = this.buf.slice(pos);
    return concat(...out);
  }
  /** The final segment (possibly empty) with the last-flag set. */
  async finalize(): Promise<Bytes> {
    this.checkOpen();
    this.done = true;
    return aesGcmEncrypt(this.key, this.nonce(true), this.buf, this.aad);
  }
}

/** Decrypt incrementally; output is provisional until `finalize` succeeds (§8.2). */
export class StreamDecryptor extends Stream {
  private failed(): DecryptionError {
    this.done = true;
    return new DecryptionError(`document segment ${this.counter} failed authentication`);
  }
  /** Absorb ciphertext; return the plaintext of segments that are followed by more data. */
  async update(data: Uint8Array): Promise<Bytes> {
    this.checkOpen();
    this.buf = concat(this.buf, data);
    const size = this.manifest.segmentSize + TAG;
    const out: Uint8Array[] = [];
    let pos = 0;
    while (this.buf.length - pos > size) {
      try {
        out.push(await aesGcmDecrypt(this.key, this.nonce(false), this.buf.subarray(pos, pos + size), this.aad));
      } catch {
        throw this.failed();
      }
      this.counter++;
      pos += size;
    }
    this.buf = this.buf.slice(pos);
    return concat(...out);
  }
  /** Open the final segment; a missing final segment is TruncatedError. */
  async finalize(): Promise<Bytes> {
    this.checkOpen();
    this.done = true;
    const chunk = this.buf;
    if (!chunk.length) throw new TruncatedError("document is truncated: no segments");
    try {
      return await aesGcmDecrypt(this.key, this.nonce(true), chunk, this.aad);
    } catch {
      // Not a final segment: a valid middle segment means the end was cut off.
    }
    try {
      await aesGcmDecrypt(this.key, this.nonce(false), chunk, this.aad);
    } catch {
      throw new DecryptionError(`document segment ${this.counter} failed authentication`);
    }
    throw new TruncatedError("document is truncated: the final segment is missing");
  }
}

/** One-shot STREAM encryption. */
export async function encryptDocument(docKey: Uint8Array, m: Manifest, data: Uint8Array): Promise<Bytes> {
  const e = new StreamEncryptor(docKey, m);
  return concat(await e.update(data), await e.finalize());
}

/** One-shot STREAM decryption; a missing final segment is TruncatedError, any other failure DecryptionError. */
export async function decryptDocument(docKey: Uint8Array, m: Manifest, data: Uint8Array): Promise<Bytes> {
  const d = new StreamDecryptor(docKey, m);
  return concat(await d.update(data), await d.finalize());
}

// ---- §8.3 / §9 key records ---------------------------------------------------------------

function fieldsOf(data: Uint8Array, what: string): Bytes[] {
  try {
    return dec(data);
  } catch (e) {
    if (e instanceof MalformedError) throw new MalformedError(`${what} is malformed: ${e.message}`);
    throw e;
  }
}

export interface DocumentKey {
  readonly documentId: string;
  readonly version: number;
  readonly key: Bytes;
  readonly manifestHash: Bytes;
}

export function documentKeyBytes(k: DocumentKey): Bytes {
  return enc(uuidBytes(k.documentId), k.version, k.key, k.manifestHash);
}

export function documentKeyFromBytes(data: Uint8Array): DocumentKey {
  const f = fieldsOf(data, "document key record");
  if (f.length !== 4 || f[0]!.length !== 16 || f[2]!.length !== 32 || f[3]!.length !== 32) throw new MalformedError("document key record is malformed");
  return { documentId: uuidText(f[0]!), version: fieldInt(f[1]!), key: f[2]!, manifestHash: f[3]! };
}

/** LIBRARY_GRANT content. */
export const encodeDocumentKeys = (keys: readonly DocumentKey[]) => enc(...keys.map(documentKeyBytes));
export const decodeDocumentKeys = (data: Uint8Array) => dec(data).map(documentKeyFromBytes);

export const HISTORY_GRANT_VERSION = 2;
export const GRANT_SCOPES = ["cases", "prenotifications"] as const;
export const MAX_GRANT_ITEMS = 10_000;
export const BROADCAST_ITEM_KEY = 44;
export const TARGETED_ITEM_KEY = 32;

export interface GrantedItem {
  readonly seq: number;
  readonly senderDeviceId: string;
  readonly messageId: string;
  readonly envelopeHash: Bytes;
  readonly itemKey: Bytes;
}

export interface HistoryGrant {
  readonly memberId: string;
  readonly scope: string;
  readonly items: readonly GrantedItem[];
}

export function historyGrantBytes(g: HistoryGrant): Bytes {
  if (g.items.length > MAX_GRANT_ITEMS) throw new RangeError(`a history grant carries at most ${MAX_GRANT_ITEMS} items`);
  const items = g.items.map((i) => enc(i.seq, uuidBytes(i.senderDeviceId), uuidBytes(i.messageId), i.envelopeHash, i.itemKey));
  return enc(HISTORY_GRANT_VERSION, uuidBytes(g.memberId), g.scope, enc(...items));
}

function grantedItemFromBytes(data: Uint8Array): GrantedItem {
  const f = fieldsOf(data, "history grant item");
  if (f.length !== 5 || f[1]!.length !== 16 || f[2]!.length !== 16 || f[3]!.length !== 32) throw new MalformedError("history grant item is malformed");
  if (![BROADCAST_ITEM_KEY, TARGETED_ITEM_KEY, 0].includes(f[4]!.length)) throw new MalformedError(`history grant item key is ${f[4]!.length} bytes, not 44, 32 or 0`);
  return { seq: fieldInt(f[0]!), senderDeviceId: uuidText(f[1]!), messageId: uuidText(f[2]!), envelopeHash: f[3]!, itemKey: f[4]! };
}

/** Parse strictly: version, member id, a known scope, at most 10,000 distinct seqs. */
export function historyGrantFromBytes(data: Uint8Array): HistoryGrant {
  const f = fieldsOf(data, "history grant");
  if (f.length !== 4 || f[0]!.length !== 8 || f[1]!.length !== 16) throw new MalformedError("history grant is malformed");
  const version = fieldIntLoose(f[0]!);
  if (version !== HISTORY_GRANT_VERSION) throw new MalformedError(`history grant version ${version} is not supported`);
  const scope = new TextDecoder("latin1").decode(f[2]!).replace(/[^\x00-\x7f]/g, "\ufffd");
  if (!(GRANT_SCOPES as readonly string[]).includes(scope)) throw new MalformedError(`history grant scope '${scope}' is not one of cases, prenotifications`);
  const raw = fieldsOf(f[3]!, "history grant item list");
  if (raw.length > MAX_GRANT_ITEMS) throw new MalformedError(`history grant carries more than ${MAX_GRANT_ITEMS} items`);
  const items = raw.map(grantedItemFromBytes);
  if (new Set(items.map((i) => i.seq)).size !== items.length) throw new MalformedError("history grant names one item twice");
  return { memberId: uuidText(f[1]!), scope, items };
}

