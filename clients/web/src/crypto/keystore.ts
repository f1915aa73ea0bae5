/**
 * The passphrase-encrypted keystore (PROTOCOL.md §10), the same JSON and inner byte format as
 * `crypto/keystore.py`, so a keystore written by the Python SDK opens here and vice versa:
 * `{v:1, kdf:"scrypt", n, r, p, salt, nonce, ciphertext}`, key = scrypt(passphrase, salt, n, 8, 1),
 * AES-256-GCM with aad = sig_input("keystore", 1, n, r, p, salt).
 *
 * Extractable material, and why: the format stores raw Ed25519 seeds and X25519 private keys,
 * so writing it back needs their bytes. They live only in this module's private fields
 * (`#raw`); the `CryptoKey`s handed to the rest of the client are non-extractable, so nothing
 * outside the keystore can export them. Where the file lives (IndexedDB, a download) is the
 * app's concern; this module turns bytes into keys and keys into bytes.
 */

import { b64d, b64e, type Bytes, randomBytes, utf8, uuidBytes, uuidText } from "./bytes";
import { compareCodePoints } from "./canonical";
import { dec, enc, fieldInt, sigInput } from "./encoding";
import { KeystoreError, MalformedError, WrongPassphraseError } from "./errors";
import { DAY_MS, makePrekey, PREKEY_GRACE_MS, type SignedPrekey } from "./keys";
import { aesGcmDecrypt, aesGcmEncrypt, type AgreementKey, newAgreementKey, privateBytes, scrypt, type SigningKey, signingKeyFromSeed, x25519FromPrivate } from "./primitives";

export const KEYSTORE_VERSION = 1;
export const SCRYPT_N = 2 ** 15;
export const SCRYPT_MIN_N = 2 ** 14;
export const SCRYPT_R = 8;
export const SCRYPT_P = 1;
export const ROTATE_PREKEY_AT_MS = 6 * DAY_MS;

export interface PrekeySecret {
  readonly prekey: SignedPrekey;
  readonly pair: AgreementKey;
}

/** A device's private state. `toString` and JSON never show key material. */
export class KeystoreData {
  readonly prekeys = new Map<number, PrekeySecret>();
  readonly secrets = new Map<string, Bytes>();
  readonly #raw = new WeakMap<CryptoKey, Bytes>();

  private constructor(
    readonly deviceId: string,
    public signingKey: SigningKey,
    public memberKey: SigningKey | null,
  ) {}

  /** Wrap raw private bytes: the returned key pair is non-extractable, the bytes stay here. */
  private async ed25519(seed: Uint8Array): Promise<SigningKey> {
    const key = await signingKeyFromSeed(seed, false);
    this.#raw.set(key.privateKey, Uint8Array.from(seed));
    return key;
  }
  private async x25519(raw: Uint8Array): Promise<AgreementKey> {
    const pair = await x25519FromPrivate(raw, false);
    this.#raw.set(pair.privateKey, Uint8Array.from(raw));
    return pair;
  }
  private rawOf(key: CryptoKey): Bytes {
    const raw = this.#raw.get(key);
    if (!raw) throw new KeystoreError("a key not made by this keystore cannot be stored in it");
    return raw;
  }

  /** A new device identity (fresh Ed25519 seed), optionally with a member key. */
  static async create(deviceId: string, withMemberKey = false, seeds?: { device: Uint8Array; member?: Uint8Array }): Promise<KeystoreData> {
    const data = new KeystoreData(deviceId, null as unknown as SigningKey, null);
    data.signingKey = await data.ed25519(seeds?.device ?? randomBytes(32));
    if (withMemberKey || seeds?.member) data.memberKey = await data.ed25519(seeds?.member ?? randomBytes(32));
    return data;
  }

  prekeyPair(prekeyId: number): AgreementKey | null {
    return this.prekeys.get(prekeyId)?.pair ?? null;
  }

  /** The newest unexpired prekey, which the key directory should serve. */
  currentPrekey(nowMs: number): SignedPrekey | null {
    const valid = [...this.prekeys.values()].map((s) => s.prekey).filter((p) => p.expiresTs > nowMs);
    return valid.reduce<SignedPrekey | null>((best, p) => (!best || p.createdTs > best.createdTs ? p : best), null);
  }

  /** Make a new prekey once the newest is six days old; return it for upload. */
  async rotatePrekeys(nowMs: number): Promise<SignedPrekey | null> {
    const all = [...this.prekeys.values()].map((s) => s.prekey);
    const newest = all.reduce<SignedPrekey | null>((best, p) => (!best || p.createdTs > best.createdTs ? p : best), null);
    if (newest && nowMs - newest.createdTs < ROTATE_PREKEY_AT_MS) return null;
    const prekeyId = Math.max(0, ...this.prekeys.keys()) + 1;
    const fresh = await newAgreementKey(true);
    const raw = await privateBytes(fresh.privateKey);
    const pair = await this.x25519(raw);
    const [, prekey] = await makePrekey(this.signingKey, this.deviceId, prekeyId, nowMs, pair);
    this.prekeys.set(prekeyId, { prekey, pair });
    return prekey;
  }

  /** Forget a private half 48 h after a newer prekey was made (run after a caught-up sync). */
  deleteExpiredPrekeys(nowMs: number): number[] {
    const made = [...this.prekeys.values()].map((s) => s.prekey.createdTs);
    const gone = [...this.prekeys.entries()].filter(([, s]) => made.some((t) => s.prekey.createdTs < t && t <= nowMs - PREKEY_GRACE_MS)).map(([id]) => id);
    for (const id of gone) this.prekeys.delete(id);
    return gone;
  }

  toString(): string {
    return `KeystoreData(device_id=${this.deviceId}, prekeys=[${[...this.prekeys.keys()].sort((a, b) => a - b).join(", ")}], ...)`;
  }
  toJSON(): string {
    return this.toString();
  }

  /** The inner plaintext (Python `_serialise`). */
  serialise(): Bytes {
    const prekeys = [...this.prekeys.values()].map((p) => enc(uuidBytes(p.prekey.deviceId), p.prekey.prekeyId, p.prekey.publicKey, p.prekey.createdTs, p.prekey.expiresTs, p.prekey.signature, this.rawOf(p.pair.privateKey)));
    const member = this.memberKey ? this.rawOf(this.memberKey.privateKey) : new Uint8Array();
    const items = [...this.secrets.entries()].sort((a, b) => compareCodePoints(a[0], b[0])).map(([name, value]) => enc(name, value));
    return enc(uuidBytes(this.deviceId), this.rawOf(this.signingKey.privateKey), member, enc(...prekeys), enc(...items));
  }

  /** Python `_deserialise`. */
  static async deserialise(raw: Uint8Array): Promise<KeystoreData> {
    const f = dec(raw);
    if (f.length !== 5 || f[0]!.length !== 16 || f[1]!.length !== 32 || ![0, 32].includes(f[2]!.length)) throw new MalformedError("keystore contents are malformed");
    const data = new KeystoreData(uuidText(f[0]!), null as unknown as SigningKey, null);
    data.signingKey = await data.ed25519(f[1]!);
    if (f[2]!.length) data.memberKey = await data.ed25519(f[2]!);
    for (const item of dec(f[3]!)) {
      const p = dec(item);
      if (p.length !== 7) throw new MalformedError("keystore prekey record is malformed");
      const prekey: SignedPrekey = { deviceId: uuidText(p[0]!), prekeyId: fieldInt(p[1]!), publicKey: p[2]!, createdTs: fieldInt(p[3]!), expiresTs: fieldInt(p[4]!), signature: p[5]! };
      data.prekeys.set(prekey.prekeyId, { prekey, pair: await data.x25519(p[6]!) });
    }
    for (const item of dec(f[4]!)) {
      const pair = dec(item);
      if (pair.length !== 2) throw new MalformedError("keystore secret is malformed");
      data.secrets.set(new TextDecoder().decode(pair[0]!), pair[1]!);
    }
    return data;
  }
}

const aad = (n: number, r: number, p: number, salt: Uint8Array) => sigInput("keystore", KEYSTORE_VERSION, n, r, p, salt);

/**
 * The scrypt-derived key of one unlocked session, with the salt and parameters it came from.
 * Deriving costs one scrypt (2^15) per unlock; later saves reuse it with a fresh nonce, so a
 * client that stores state after every received item does not pay scrypt each time. The file
 * format is unchanged: the same `{v, kdf, n, r, p, salt, nonce, ciphertext}` any reader opens
 * with the passphrase. The key bytes stay in this object's private field, memory only.
 */
export class KeystoreKey {
  readonly #key: Bytes;
  private constructor(
    key: Bytes,
    readonly salt: Bytes,
    readonly n: number,
    readonly r: number,
    readonly p: number,
  ) {
    this.#key = key;
  }

  /** A new salt and one scrypt: for a first save. */
  static async derive(passphrase: string, n = SCRYPT_N): Promise<KeystoreKey> {
    if (n < SCRYPT_MIN_N || n & (n - 1)) throw new RangeError("scrypt n must be a power of two of at least 2**14");
    const salt = randomBytes(16);
    return new KeystoreKey(await scrypt(utf8(passphrase), salt, n, SCRYPT_R, SCRYPT_P), salt, n, SCRYPT_R, SCRYPT_P);
  }

  /** @internal the key an opened file was sealed under (see `openKeystoreKeepingKey`). */
  static kept(key: Bytes, salt: Bytes, n: number, r: number, p: number): KeystoreKey {
    return new KeystoreKey(key, salt, n, r, p);
  }

  /** Seal under this key with a fresh nonce: the keystore file's JSON text. */
  async seal(data: KeystoreData): Promise<string> {
    const nonce = randomBytes(12);
    const ct = await aesGcmEncrypt(this.#key, nonce, data.serialise(), aad(this.n, this.r, this.p, this.salt));
    // Same spelling as Python's json.dumps(doc).
    return `{"v": ${KEYSTORE_VERSION}, "kdf": "scrypt", "n": ${this.n}, "r": ${this.r}, "p": ${this.p}, "salt": "${b64e(this.salt)}", "nonce": "${b64e(nonce)}", "ciphertext": "${b64e(ct)}"}`;
  }

  toString(): string {
    return `KeystoreKey(n=${this.n}, ...)`;
  }
  toJSON(): string {
    return this.toString();
  }
}

/** Encrypt under scrypt(passphrase) + AES-256-GCM: the keystore file's JSON text (one scrypt per call). */
export async function sealKeystore(data: KeystoreData, passphrase: string, n = SCRYPT_N): Promise<string> {
  return (await KeystoreKey.derive(passphrase, n)).seal(data);
}

/** Decrypt a keystore file's text; a wrong passphrase is WrongPassphraseError, anything else KeystoreError. */
export async function openKeystore(text: string, passphrase: string): Promise<KeystoreData> {
  return (await openKeystoreKeepingKey(text, passphrase)).data;
}

/** As `openKeystore`, also returning the derived key so later saves need no scrypt. */
export async function openKeystoreKeepingKey(text: string, passphrase: string): Promise<{ data: KeystoreData; key: KeystoreKey }> {
  let n: number, r: number, p: number, salt: Bytes, nonce: Bytes, ct: Bytes;
  try {
    const doc = JSON.parse(text) as Record<string, unknown>;
    if (doc.v !== KEYSTORE_VERSION || doc.kdf !== "scrypt") throw new KeystoreError("unsupported keystore version or KDF");
    [n, r, p] = [doc.n, doc.r, doc.p].map((x) => {
      const v = Number(x);
      if (!Number.isInteger(v)) throw new TypeError("not an integer");
      return v;
    }) as [number, number, number];
    salt = b64d(doc.salt, 16, "salt");
    nonce = b64d(doc.nonce, 12, "nonce");
    ct = b64d(doc.ciphertext, null, "ciphertext");
  } catch (e) {
    if (e instanceof KeystoreError) throw e;
    throw new KeystoreError("keystore file is corrupt");
  }
  if (!(SCRYPT_MIN_N <= n && n <= 2 ** 20) || !(r >= 1 && r <= 32) || !(p >= 1 && p <= 16)) throw new KeystoreError("keystore KDF parameters are out of range");
  let plain: Bytes;
  const key = await scrypt(utf8(passphrase), salt, n, r, p);
  try {
    plain = await aesGcmDecrypt(key, nonce, ct, aad(n, r, p, salt));
  } catch {
    throw new WrongPassphraseError("wrong passphrase (or the keystore was altered)");
  }
  try {
    return { data: await KeystoreData.deserialise(plain), key: KeystoreKey.kept(key, salt, n, r, p) };
  } catch {
    throw new KeystoreError("keystore contents are corrupt");
  }
}
