/**
 * Sealing and opening v2 envelopes (PROTOCOL.md §5.3), as `crypto/envelope.py`: the fresh
 * content key and its HPKE wraps for a targeted envelope, the sender-chain key for a broadcast,
 * the device signature, and the receiver's side of each.
 */

import { Aes256Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from "@hpke/core";
import { type Bytes, concat, randomBytes, randomUuid, uuidBytes } from "./bytes";
import { decryptionFailed, DecryptionError, KeyUnavailableError, MalformedError } from "./errors";
import { assemble, BROADCAST, contentAad, encodeHeader, type Envelope, envelopeSigningInput, HPKE_ENC_SIZE, pad, PREKEY_ONE_TIME, PREKEY_SIGNED, TARGETED, unpad, type Wrap, wrapBytes, wrapInfo } from "./envelope";
import { type Labels, NO_LABELS } from "./labels";
import { aesGcmDecrypt, aesGcmEncrypt, type AgreementKey, sha256, sign, type SigningKey, verifySig, x25519FromPrivate } from "./primitives";
import type { SenderChain } from "./ratchet";

export const SUITE = new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: new Aes256Gcm() });
const ZERO_NONCE = new Uint8Array(12);
const EMPTY = new Uint8Array();

/** A roster device and the verified prekey its wrap is sealed to. */
export interface Recipient {
  readonly deviceId: string;
  readonly prekeyId: number;
  /** Raw 32-byte X25519 public key. */
  readonly publicKey: Uint8Array;
  /** 1 signed prekey, 2 one-time prekey. */
  readonly prekeyType?: number;
}

/** The receiver's prekey pair for a wrap's (prekey_type, prekey_id), or null if deleted. */
export type PrekeyLookup = (prekeyType: number, prekeyId: number) => AgreementKey | null | undefined;

interface SealCommon {
  signingKey: SigningKey;
  senderDeviceId: string;
  groupId: string;
  epochId: Uint8Array;
  contentType: number;
  content: Uint8Array;
  ts: number;
  messageId?: string;
  labels?: Labels;
}

function padContent(content: Uint8Array): Bytes {
  try {
    return pad(content);
  } catch (e) {
    throw e instanceof MalformedError ? e : new MalformedError(String(e));
  }
}

async function signed(key: SigningKey, header: Uint8Array, keying: Uint8Array, ct: Uint8Array): Promise<Bytes> {
  return assemble(header, keying, ct, await sign(key, await envelopeSigningInput(header, keying, ct)));
}

/** HPKE SealBase of `plaintext` to `publicKey`; `ephemeral` (a fixed private key) only for vectors. */
export async function hpkeSeal(publicKey: Uint8Array, info: Uint8Array, plaintext: Uint8Array, ephemeral?: Uint8Array): Promise<Bytes> {
  const recipientPublicKey = await SUITE.kem.deserializePublicKey(publicKey as Bytes);
  let ekm: CryptoKeyPair | undefined;
  if (ephemeral) {
    const pair = await x25519FromPrivate(ephemeral);
    ekm = { privateKey: pair.privateKey, publicKey: await SUITE.kem.deserializePublicKey(pair.publicKey) };
  }
  const sender = await SUITE.createSenderContext(ekm ? { recipientPublicKey, info: info as Bytes, ekm } : { recipientPublicKey, info: info as Bytes });
  const ct = new Uint8Array(await sender.seal(plaintext as Bytes, EMPTY));
  return concat(new Uint8Array(sender.enc), ct);
}

/** HPKE OpenBase; every failure is the single DecryptionError. */
export async function hpkeOpen(recipient: AgreementKey, encapsulated: Uint8Array, info: Uint8Array): Promise<Bytes> {
  try {
    const publicKey = await SUITE.kem.deserializePublicKey(recipient.publicKey);
    const ctx = await SUITE.createRecipientContext({
      recipientKey: { privateKey: recipient.privateKey, publicKey },
      enc: encapsulated.slice(0, HPKE_ENC_SIZE) as Bytes,
      info: info as Bytes,
    });
    return new Uint8Array(await ctx.open(encapsulated.slice(HPKE_ENC_SIZE) as Bytes, EMPTY));
  } catch {
    throw decryptionFailed();
  }
}

/** Encrypt once under a fresh content key and HPKE-wrap that key to each recipient device. */
export async function sealTargeted(args: SealCommon & { recipients: readonly Recipient[]; contentKey?: Uint8Array; ephemeralKeys?: readonly Uint8Array[] }): Promise<Bytes> {
  const header = encodeHeader({
    kind: TARGETED,
    contentType: args.contentType,
    groupId: args.groupId,
    epochId: args.epochId,
    senderDeviceId: args.senderDeviceId,
    messageId: args.messageId ?? randomUuid(),
    ts: args.ts,
    recipients: args.recipients.map((r) => r.deviceId),
    labels: args.labels ?? NO_LABELS,
  });
  const contentKey = args.contentKey ?? randomBytes(32);
  // A fresh key per envelope makes the fixed nonce safe.
  const ct = await aesGcmEncrypt(contentKey, ZERO_NONCE, padContent(args.content), contentAad(header));
  const headerHash = sha256(header);
  const wraps: Bytes[] = [];
  for (const [i, r] of args.recipients.entries()) {
    const type = r.prekeyType ?? PREKEY_SIGNED;
    const sealed = await hpkeSeal(r.publicKey, wrapInfo(headerHash, r.deviceId, type, r.prekeyId), contentKey, args.ephemeralKeys?.[i]);
    wraps.push(wrapBytes({ prekeyType: type, prekeyId: r.prekeyId, enc: sealed.slice(0, HPKE_ENC_SIZE), ct: sealed.slice(HPKE_ENC_SIZE) }));
  }
  return signed(args.signingKey, header, concat(...wraps), ct);
}

/** Encrypt to the whole group under the next key of this device's sender chain. */
export async function sealBroadcast(args: SealCommon & { chain: SenderChain }): Promise<Bytes> {
  const header = encodeHeader({
    kind: BROADCAST,
    contentType: args.contentType,
    groupId: args.groupId,
    epochId: args.epochId,
    senderDeviceId: args.senderDeviceId,
    messageId: args.messageId ?? randomUuid(),
    ts: args.ts,
    labels: args.labels ?? NO_LABELS,
  });
  const padded = padContent(args.content);
  const [index, key, nonce] = args.chain.nextKey();
  const keying = concat(uuidBytes(args.chain.chainId), new Uint8Array([index >>> 24, (index >>> 16) & 255, (index >>> 8) & 255, index & 255]));
  const ct = await aesGcmEncrypt(key, nonce, padded, contentAad(header));
  return signed(args.signingKey, header, keying, ct);
}

/** The sender device's signature over header, keying and ciphertext (SignatureError). */
export async function verifyEnvelope(env: Envelope, deviceSigningKey: Uint8Array): Promise<void> {
  await verifySig(deviceSigningKey, env.signature, await env.signingInput(), "envelope");
}

/** Find this device's wrap and HPKE-open the content key with the prekey it names. */
export async function openWrap(env: Envelope, deviceId: string, prekeys: PrekeyLookup): Promise<Bytes> {
  const wrap: Wrap | null = env.wrapFor(deviceId);
  if (wrap === null) throw new KeyUnavailableError("this device is not a recipient of the envelope");
  const pair = prekeys(wrap.prekeyType, wrap.prekeyId);
  if (!pair) {
    if (wrap.prekeyType === PREKEY_ONE_TIME) throw new KeyUnavailableError(`one-time prekey ${wrap.prekeyId} is unknown or already used`);
    throw new KeyUnavailableError(`prekey ${wrap.prekeyId} is unknown or already deleted`);
  }
  const info = wrapInfo(sha256(env.header.raw), deviceId, wrap.prekeyType, wrap.prekeyId);
  const key = await hpkeOpen(pair, concat(wrap.enc, wrap.ct), info);
  if (key.length !== 32) throw decryptionFailed();
  return key;
}

/** AES-GCM-open the body with the header as AAD and strip the padding (one DecryptionError). */
export async function decryptBody(env: Envelope, key: Uint8Array, nonce: Uint8Array = ZERO_NONCE): Promise<Bytes> {
  const padded = await aesGcmDecrypt(key, nonce, env.ciphertext, contentAad(env.header.raw));
  try {
    return unpad(padded);
  } catch {
    throw new DecryptionError("message could not be decrypted");
  }
}
