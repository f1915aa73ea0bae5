/**
 * The primitives of PROTOCOL.md §1, from maintained implementations only:
 * WebCrypto for Ed25519, X25519 and AES-256-GCM (keys as `CryptoKey`s), `@hpke/core` for HPKE
 * (RFC 9180, on WebCrypto's X25519), and `@noble/hashes` for SHA-2, HMAC, HKDF and scrypt.
 *
 * Why noble for the hashes: the protocol hashes and HMACs many tiny inputs in loops (hash
 * chains of the log, the sender-key ratchet, 5,200 SHA-512 rounds of a fingerprint); noble does
 * them synchronously, where WebCrypto would need one `await` per 32-byte hash. Every key those
 * functions take is already raw bytes the protocol derived (chain keys, document keys), never a
 * long-term private key.
 */

import { hkdf as nobleHkdf } from "@noble/hashes/hkdf.js";
import { hmac as nobleHmac } from "@noble/hashes/hmac.js";
import { scryptAsync } from "@noble/hashes/scrypt.js";
import { sha256 as nobleSha256, sha512 as nobleSha512 } from "@noble/hashes/sha2.js";
import { b64d, type Bytes, concat } from "./bytes";
import { decryptionFailed, SignatureError } from "./errors";

const subtle = globalThis.crypto.subtle;

export function sha256(...parts: Uint8Array[]): Bytes {
  if (parts.length === 1) return nobleSha256(parts[0]!) as Bytes;
  const h = nobleSha256.create();
  for (const p of parts) h.update(p);
  return h.digest() as Bytes;
}

/**
 * SHA-256 of one (possibly large) input: WebCrypto's native digest above 16 KiB (a 256 KiB
 * envelope body hashes ~15× faster there), noble below (no thread-pool round trip).
 */
export async function sha256Large(data: Uint8Array): Promise<Bytes> {
  if (data.length <= 16_384) return sha256(data);
  return new Uint8Array(await subtle.digest("SHA-256", data as Bytes));
}

export function sha512(data: Uint8Array): Bytes {
  return nobleSha512(data) as Bytes;
}

export function hmacSha256(key: Uint8Array, msg: Uint8Array): Bytes {
  return nobleHmac(nobleSha256, key, msg) as Bytes;
}

/** RFC 5869 HKDF-SHA-256; an empty salt is 32 zero bytes (as RFC 5869 says). */
export function hkdfSha256(ikm: Uint8Array, info: Uint8Array, length: number, salt?: Uint8Array): Bytes {
  return nobleHkdf(nobleSha256, ikm, salt && salt.length ? salt : undefined, info, length) as Bytes;
}

export async function scrypt(passphrase: Uint8Array, salt: Uint8Array, n: number, r: number, p: number): Promise<Bytes> {
  return (await scryptAsync(passphrase, salt, { N: n, r, p, dkLen: 32, maxmem: 2 ** 31 })) as Bytes;
}

// ---- Ed25519 -----------------------------------------------------------------------------

// PKCS#8 wrapping of a raw 32-byte private key (RFC 8410): WebCrypto imports private
// Ed25519/X25519 keys only in this form. The prefix is fixed DER, not a primitive.
const ED25519_PKCS8 = new Uint8Array([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20]);
const X25519_PKCS8 = new Uint8Array([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20]);

/** An Ed25519 key pair: the private half a `CryptoKey`, the public half its 32 raw bytes. */
export interface SigningKey {
  readonly privateKey: CryptoKey;
  readonly publicKey: Bytes;
}

/**
 * Import a 32-byte Ed25519 seed. `extractable` is false unless the caller must write the seed
 * back into a keystore (the keystore format stores raw seeds, PROTOCOL §10).
 */
export async function signingKeyFromSeed(seed: Uint8Array, extractable = false): Promise<SigningKey> {
  if (seed.length !== 32) throw new Error("an Ed25519 seed is 32 bytes");
  return importRawPrivate(ED25519_PKCS8, "Ed25519", ["sign"], seed, extractable);
}

/**
 * A raw 32-byte Ed25519/X25519 private key as a `CryptoKey` and its public bytes. WebCrypto
 * derives no public key from a private one, so it is read from the JWK of an extractable twin
 * that never leaves this function.
 */
async function importRawPrivate(prefix: Uint8Array, name: "Ed25519" | "X25519", usages: KeyUsage[], raw: Uint8Array, extractable: boolean): Promise<{ privateKey: CryptoKey; publicKey: Bytes }> {
  const pkcs8 = concat(prefix, raw);
  const twin = await subtle.importKey("pkcs8", pkcs8, { name }, true, usages);
  const publicKey = b64d((await subtle.exportKey("jwk", twin)).x, 32, "jwk.x");
  const privateKey = extractable ? twin : await subtle.importKey("pkcs8", pkcs8, { name }, false, usages);
  return { privateKey, publicKey };
}

/** A fresh Ed25519 key; its private half is non-extractable. */
export async function newSigningKey(): Promise<SigningKey> {
  const pair = (await subtle.generateKey({ name: "Ed25519" }, false, ["sign", "verify"])) as CryptoKeyPair;
  return { privateKey: pair.privateKey, publicKey: new Uint8Array(await subtle.exportKey("raw", pair.publicKey)) };
}

/** The raw seed of an extractable Ed25519 or X25519 private key (keystore writes only). */
export async function privateBytes(key: CryptoKey): Promise<Bytes> {
  const pkcs8 = new Uint8Array(await subtle.exportKey("pkcs8", key));
  return pkcs8.slice(pkcs8.length - 32);
}

export async function sign(key: SigningKey | CryptoKey, message: Uint8Array): Promise<Bytes> {
  const k = key instanceof CryptoKey ? key : key.privateKey;
  return new Uint8Array(await subtle.sign("Ed25519", k, message as Bytes));
}

const verifyKeys = new Map<string, Promise<CryptoKey | null>>();

function importVerifyKey(publicKey: Uint8Array): Promise<CryptoKey | null> {
  const id = String.fromCharCode(...publicKey);
  let found = verifyKeys.get(id);
  if (!found) {
    found = publicKey.length !== 32
      ? Promise.resolve(null)
      : subtle.importKey("raw", publicKey as Bytes, { name: "Ed25519" }, false, ["verify"]).catch(() => null);
    if (verifyKeys.size > 4096) verifyKeys.clear();
    verifyKeys.set(id, found);
  }
  return found;
}

/** True when the signature verifies; a malformed key or signature counts as a failure. */
export async function verifyEd25519(publicKey: Uint8Array, signature: Uint8Array, message: Uint8Array): Promise<boolean> {
  if (signature.length !== 64) return false;
  const key = await importVerifyKey(publicKey);
  if (!key) return false;
  try {
    return await subtle.verify("Ed25519", key, signature as Bytes, message as Bytes);
  } catch {
    return false;
  }
}

/** Verify or raise SignatureError "<what>: signature does not verify" (Python `verify_sig`). */
export async function verifySig(publicKey: Uint8Array, signature: Uint8Array, message: Uint8Array, what: string): Promise<void> {
  if (!(await verifyEd25519(publicKey, signature, message))) {
    throw new SignatureError(`${what}: signature does not verify`);
  }
}

// ---- X25519 ------------------------------------------------------------------------------

/** An X25519 key pair (prekeys): private half a `CryptoKey`, public half raw bytes. */
export interface AgreementKey {
  readonly privateKey: CryptoKey;
  readonly publicKey: Bytes;
}

export async function x25519FromPrivate(raw: Uint8Array, extractable = false): Promise<AgreementKey> {
  if (raw.length !== 32) throw new Error("an X25519 private key is 32 bytes");
  return importRawPrivate(X25519_PKCS8, "X25519", ["deriveBits"], raw, extractable);
}

export async function newAgreementKey(extractable = false): Promise<AgreementKey> {
  const pair = (await subtle.generateKey({ name: "X25519" }, extractable, ["deriveBits"])) as CryptoKeyPair;
  return { privateKey: pair.privateKey, publicKey: new Uint8Array(await subtle.exportKey("raw", pair.publicKey)) };
}

// ---- AES-256-GCM -------------------------------------------------------------------------

async function aesKey(key: Uint8Array, usage: KeyUsage): Promise<CryptoKey> {
  return subtle.importKey("raw", key as Bytes, { name: "AES-GCM" }, false, [usage]);
}

export async function aesGcmEncrypt(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Promise<Bytes> {
  const k = await aesKey(key, "encrypt");
  return new Uint8Array(await subtle.encrypt({ name: "AES-GCM", iv: nonce as Bytes, additionalData: aad as Bytes }, k, plaintext as Bytes));
}

/** AES-256-GCM open; any failure is the single DecryptionError. */
export async function aesGcmDecrypt(key: Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array, aad: Uint8Array): Promise<Bytes> {
  try {
    const k = await aesKey(key, "decrypt");
    return new Uint8Array(await subtle.decrypt({ name: "AES-GCM", iv: nonce as Bytes, additionalData: aad as Bytes }, k, ciphertext as Bytes));
  } catch {
    throw decryptionFailed();
  }
}
