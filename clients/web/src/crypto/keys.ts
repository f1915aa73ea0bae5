/** Signed prekeys and trust-root fingerprints (PROTOCOL.md §3.1, §3.4), as `crypto/keys.py`. */

import { b64d, b64e, type Bytes, uuidBytes } from "./bytes";
import { sigInput } from "./encoding";
import { KeyUnavailableError, MalformedError } from "./errors";
import { type AgreementKey, newAgreementKey, sha512, sign, type SigningKey, verifySig } from "./primitives";

export const DAY_MS = 86_400_000;
export const PREKEY_LIFETIME_MS = 7 * DAY_MS;
export const PREKEY_GRACE_MS = 2 * DAY_MS;
export const FINGERPRINT_ITERATIONS = 5200;
export const QR_PREFIX = "cordon-root:1:";

/** An X25519 HPKE recipient key signed by its device; the server stores and serves it. */
export interface SignedPrekey {
  readonly deviceId: string;
  readonly prekeyId: number;
  readonly publicKey: Bytes;
  readonly createdTs: number;
  readonly expiresTs: number;
  readonly signature: Bytes;
}

export function prekeySigningInput(deviceId: string, prekeyId: number, publicKey: Uint8Array, createdTs: number, expiresTs: number): Bytes {
  return sigInput("prekey", uuidBytes(deviceId), prekeyId, publicKey, createdTs, expiresTs);
}

export function prekeyToJson(p: SignedPrekey): Record<string, unknown> {
  return { device_id: p.deviceId, prekey_id: p.prekeyId, public_key: b64e(p.publicKey), created_ts: p.createdTs, expires_ts: p.expiresTs, sig: b64e(p.signature) };
}

const PREKEY_FIELDS = ["created_ts", "device_id", "expires_ts", "prekey_id", "public_key", "sig"];

/** Parse a key-directory record strictly. */
export function prekeyFromJson(obj: unknown): SignedPrekey {
  const o = obj as Record<string, unknown>;
  if (typeof obj !== "object" || obj === null || Object.keys(o).length !== 6 || !PREKEY_FIELDS.every((f) => Object.hasOwn(o, f))) {
    throw new MalformedError("prekey: unexpected fields");
  }
  const ints = [o.prekey_id, o.created_ts, o.expires_ts];
  if (!ints.every((i) => typeof i === "number" && Number.isSafeInteger(i) && i >= 0)) throw new MalformedError("prekey: integer fields must be non-negative integers");
  uuidBytes(o.device_id, "prekey.device_id");
  return {
    deviceId: o.device_id as string,
    prekeyId: o.prekey_id as number,
    publicKey: b64d(o.public_key, 32, "prekey.public_key"),
    createdTs: o.created_ts as number,
    expiresTs: o.expires_ts as number,
    signature: b64d(o.sig, 64, "prekey.sig"),
  };
}

/** Create and sign a prekey valid for seven days from `nowMs`; the private half is non-extractable unless asked. */
export async function makePrekey(deviceKey: SigningKey, deviceId: string, prekeyId: number, nowMs: number, pair?: AgreementKey): Promise<[AgreementKey, SignedPrekey]> {
  if (!(prekeyId >= 0 && prekeyId < 2 ** 32)) throw new RangeError("prekey_id must fit in u32");
  const key = pair ?? (await newAgreementKey());
  const expires = nowMs + PREKEY_LIFETIME_MS;
  const sig = await sign(deviceKey, prekeySigningInput(deviceId, prekeyId, key.publicKey, nowMs, expires));
  return [key, { deviceId, prekeyId, publicKey: key.publicKey, createdTs: nowMs, expiresTs: expires, signature: sig }];
}

/** Accept a served prekey only if its roster device signed it and it has not expired. */
export async function verifyPrekey(p: SignedPrekey, deviceSigningKey: Uint8Array, nowMs: number): Promise<Bytes> {
  await verifySig(deviceSigningKey, p.signature, prekeySigningInput(p.deviceId, p.prekeyId, p.publicKey, p.createdTs, p.expiresTs), "prekey");
  if (!(p.createdTs <= nowMs && nowMs < p.expiresTs)) throw new KeyUnavailableError(`prekey ${p.prekeyId} of ${p.deviceId} is expired`);
  if (p.expiresTs - p.createdTs > PREKEY_LIFETIME_MS) throw new KeyUnavailableError("prekey lifetime exceeds seven days");
  return p.publicKey;
}

/** 12 groups of 5 digits from a 60-byte digest prefix. */
export function digits(digest: Uint8Array): string {
  const groups: string[] = [];
  for (let i = 0; i < 12; i++) {
    let n = 0n;
    for (const b of digest.slice(i * 5, i * 5 + 5)) n = (n << 8n) | BigInt(b);
    groups.push((n % 100_000n).toString().padStart(5, "0"));
  }
  return groups.join(" ");
}

/** `d = seed`, then `iterations` times `d = SHA-512(d ‖ key)`. */
export function iteratedDigest(seed: Uint8Array, key: Uint8Array, iterations: number): Bytes {
  let d: Uint8Array = seed;
  const buf = new Uint8Array(64 + key.length);
  buf.set(key, 64);
  for (let i = 0; i < iterations; i++) {
    if (d.length === 64) {
      buf.set(d, 0);
      d = sha512(buf);
    } else {
      const first = new Uint8Array(d.length + key.length);
      first.set(d);
      first.set(key, d.length);
      d = sha512(first);
    }
  }
  return d as Bytes;
}

/** The trust root as 12 groups of 5 digits for out-of-band comparison (§3.4). */
export function fingerprint(groupId: string, rootKey: Uint8Array): string {
  return digits(iteratedDigest(sigInput("fingerprint", uuidBytes(groupId), rootKey), rootKey, FINGERPRINT_ITERATIONS));
}

export function qrPayload(groupId: string, rootKey: Uint8Array): string {
  return `${QR_PREFIX}${groupId}:${b64e(rootKey)}`;
}

/** True only when a scanned payload names exactly this group and root. */
export function rootMatchesQr(payload: string, groupId: string, rootKey: Uint8Array): boolean {
  return payload === qrPayload(groupId, rootKey);
}
