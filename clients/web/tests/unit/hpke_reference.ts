/**
 * RFC 9180 base-mode HPKE written out step by step, for known-answer vectors only (the twin of
 * tests/crypto/hpke_reference.py): `@hpke/core` shows no intermediate value, this does.
 */

import { extract, expand } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { concat } from "../../src/crypto/bytes";
import { aesGcmEncrypt, x25519FromPrivate } from "../../src/crypto/primitives";

const KEM_SUITE = concat(new TextEncoder().encode("KEM"), new Uint8Array([0x00, 0x20]));
const HPKE_SUITE = concat(new TextEncoder().encode("HPKE"), new Uint8Array([0, 0x20, 0, 1, 0, 2]));
const V1 = new TextEncoder().encode("HPKE-v1");
const t = (s: string) => new TextEncoder().encode(s);

const labeledExtract = (suite: Uint8Array, salt: Uint8Array, label: string, ikm: Uint8Array) =>
  extract(sha256, concat(V1, suite, t(label), ikm), salt.length ? salt : new Uint8Array(32));
const labeledExpand = (suite: Uint8Array, prk: Uint8Array, label: string, info: Uint8Array, length: number) =>
  expand(sha256, prk, concat(new Uint8Array([length >> 8, length & 255]), V1, suite, t(label), info), length);

export async function sealBaseTrace(recipientPublic: Uint8Array, ephemeralPrivate: Uint8Array, info: Uint8Array, plaintext: Uint8Array): Promise<Record<string, Uint8Array>> {
  const eph = await x25519FromPrivate(ephemeralPrivate);
  const pub = await crypto.subtle.importKey("raw", recipientPublic as Uint8Array<ArrayBuffer>, { name: "X25519" }, true, []);
  const dh = new Uint8Array(await crypto.subtle.deriveBits({ name: "X25519", public: pub }, eph.privateKey, 256));
  const enc = eph.publicKey;
  const kem_context = concat(enc, recipientPublic);
  const eae = labeledExtract(KEM_SUITE, new Uint8Array(), "eae_prk", dh);
  const shared_secret = labeledExpand(KEM_SUITE, eae, "shared_secret", kem_context, 32);
  const psk_id_hash = labeledExtract(HPKE_SUITE, new Uint8Array(), "psk_id_hash", new Uint8Array());
  const info_hash = labeledExtract(HPKE_SUITE, new Uint8Array(), "info_hash", info);
  const key_schedule_context = concat(new Uint8Array([0]), psk_id_hash, info_hash);
  const secret = labeledExtract(HPKE_SUITE, shared_secret, "secret", new Uint8Array());
  const key = labeledExpand(HPKE_SUITE, secret, "key", key_schedule_context, 32);
  const base_nonce = labeledExpand(HPKE_SUITE, secret, "base_nonce", key_schedule_context, 12);
  const ct = await aesGcmEncrypt(key, base_nonce, plaintext, new Uint8Array());
  return { enc, dh, kem_context, shared_secret, psk_id_hash, info_hash, key_schedule_context, secret, key, base_nonce, ct };
}
