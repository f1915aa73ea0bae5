/**
 * One-time prekeys and which prekey a sender seals each wrap to (PROTOCOL.md §3.2–3.3), as
 * `crypto/prekeys.py`.
 */

import { b64d, b64e, type Bytes, concat, uuidBytes, uuidText } from "./bytes";
import { dec, enc, fieldInt, label } from "./encoding";
import { CryptoError, ExcludedDeviceError, KeyUnavailableError, MalformedError, PrekeyReuseError, SignatureError, UntrustedSenderError } from "./errors";
import { PREKEY_ONE_TIME, PREKEY_SIGNED } from "./envelope";
import { type SignedPrekey, verifyPrekey } from "./keys";
import { type AgreementKey, newAgreementKey, privateBytes, sign, type SigningKey, verifyEd25519, x25519FromPrivate } from "./primitives";
import type { Roster } from "./roster";
import type { Recipient } from "./seal";

export const ONE_TIME_BATCH = 100;
export const REPLENISH_BELOW = 25;
export const KEEP_PRIVATE_MAX = 400;
export const STORE_SECRET = "one-time-prekeys";
export const LEDGER_SECRET = "one-time-prekeys-used";
const FIELDS = ["device_id", "prekey_id", "public_key", "sig"];

export interface OneTimePrekey {
  readonly deviceId: string;
  readonly prekeyId: number;
  readonly publicKey: Bytes;
  readonly signature: Bytes;
}

export function oneTimePrekeySigningInput(deviceId: string, prekeyId: number, publicKey: Uint8Array): Bytes {
  return concat(label("one-time-prekey"), enc(uuidBytes(deviceId), prekeyId, publicKey));
}

export function oneTimePrekeyToJson(p: OneTimePrekey): Record<string, unknown> {
  return { device_id: p.deviceId, prekey_id: p.prekeyId, public_key: b64e(p.publicKey), sig: b64e(p.signature) };
}

/** Parse a served record strictly; errors name the field. */
export function oneTimePrekeyFromJson(obj: unknown, what = "one-time prekey"): OneTimePrekey {
  const o = obj as Record<string, unknown>;
  if (typeof obj !== "object" || obj === null || Object.keys(o).length !== 4 || !FIELDS.every((f) => Object.hasOwn(o, f))) {
    throw new MalformedError(`${what}: fields must be exactly [${FIELDS.map((f) => `'${f}'`).join(", ")}]`);
  }
  const pid = o.prekey_id;
  if (typeof pid !== "number" || !Number.isInteger(pid) || pid < 0 || pid >= 2 ** 32) throw new MalformedError(`${what}.prekey_id: expected an integer in 0..2^32-1`);
  uuidBytes(o.device_id, `${what}.device_id`);
  return { deviceId: o.device_id as string, prekeyId: pid, publicKey: b64d(o.public_key, 32, `${what}.public_key`), signature: b64d(o.sig, 64, `${what}.sig`) };
}

export async function makeOneTimePrekey(deviceKey: SigningKey, deviceId: string, prekeyId: number, pair?: AgreementKey): Promise<[AgreementKey, OneTimePrekey]> {
  if (!(prekeyId >= 0 && prekeyId < 2 ** 32)) throw new RangeError("prekey_id must fit in u32");
  // Extractable: the private half is written into the keystore (PROTOCOL §3.2, §10).
  const key = pair ?? (await newAgreementKey(true));
  const sig = await sign(deviceKey, oneTimePrekeySigningInput(deviceId, prekeyId, key.publicKey));
  return [key, { deviceId, prekeyId, publicKey: key.publicKey, signature: sig }];
}

/** Accept a served one-time prekey only if it is for that device and its key signed it. */
export async function verifyOneTimePrekey(p: OneTimePrekey, deviceId: string, deviceSigningKey: Uint8Array): Promise<Bytes> {
  if (p.deviceId !== deviceId) throw new UntrustedSenderError(`one-time prekey ${p.prekeyId} of device ${deviceId}: it names device ${p.deviceId}`);
  if (!(await verifyEd25519(deviceSigningKey, p.signature, oneTimePrekeySigningInput(p.deviceId, p.prekeyId, p.publicKey)))) {
    throw new SignatureError(`one-time prekey ${p.prekeyId} of device ${deviceId}: signature does not verify`);
  }
  return p.publicKey;
}

/**
 * How many one-time prekeys to upload now (§3.2, the SDK's `_replenish_one_time_prekeys`): none
 * while the server holds at least `REPLENISH_BELOW`, else a batch of at most `ONE_TIME_BATCH`
 * that fits the server's batch and stock limits (it reports them with the count).
 */
export function oneTimeTopUp(stock: { count: number; max_batch: number; max_stored: number }): number {
  const room = Math.min(ONE_TIME_BATCH, stock.max_batch, stock.max_stored - stock.count);
  return stock.count >= REPLENISH_BELOW || room <= 0 ? 0 : room;
}

/** This device's unused one-time private halves (keystore secret `one-time-prekeys`). */
export class OneTimePrekeyStore {
  /** Used since the owner last topped the server's stock up (not stored). */
  consumed = 0;
  /** Bumped on every change, so an unchanged store need not be serialised again. */
  revision = 0;
  constructor(
    public nextId = 1,
    readonly privates: Map<number, AgreementKey> = new Map(),
  ) {}

  async generate(deviceKey: SigningKey, deviceId: string, count: number): Promise<OneTimePrekey[]> {
    const out: OneTimePrekey[] = [];
    for (let i = 0; i < count; i++) {
      const [pair, pub] = await makeOneTimePrekey(deviceKey, deviceId, this.nextId);
      this.privates.set(this.nextId++, pair);
      out.push(pub);
    }
    const ids = [...this.privates.keys()].sort((a, b) => a - b);
    for (const old of ids.slice(0, Math.max(0, ids.length - KEEP_PRIVATE_MAX))) this.privates.delete(old);
    this.revision++;
    return out;
  }

  /** Delete a private half after the first envelope sealed to it has opened. */
  consume(prekeyId: number): void {
    if (this.privates.delete(prekeyId)) {
      this.consumed++;
      this.revision++;
    }
  }

  /** `enc(next_id, enc(enc(id, private)…))`. */
  async toBytes(): Promise<Bytes> {
    const items: Bytes[] = [];
    for (const [pid, k] of [...this.privates.entries()].sort((a, b) => a[0] - b[0])) items.push(enc(pid, await privateBytes(k.privateKey)));
    return enc(this.nextId, enc(...items));
  }

  static async fromBytes(data: Uint8Array): Promise<OneTimePrekeyStore> {
    const f = dec(data);
    if (f.length !== 2) throw new MalformedError("one-time prekey store is malformed");
    const store = new OneTimePrekeyStore(fieldInt(f[0]!));
    for (const item of dec(f[1]!)) {
      const pair = dec(item);
      if (pair.length !== 2 || pair[1]!.length !== 32) throw new MalformedError("one-time prekey record is malformed");
      store.privates.set(fieldInt(pair[0]!), await x25519FromPrivate(pair[1]!, true));
    }
    return store;
  }
}

/** The highest one-time prekey id this client has sealed to, per device. */
export class ClaimLedger {
  constructor(readonly highest: Map<string, number> = new Map()) {}
  check(p: OneTimePrekey): void {
    const used = this.highest.get(p.deviceId);
    if (used !== undefined && p.prekeyId <= used) {
      throw new PrekeyReuseError(`one-time prekey ${p.prekeyId} of device ${p.deviceId} is not newer than one this client already used (${used}): the server served it twice`);
    }
  }
  record(p: OneTimePrekey): void {
    this.highest.set(p.deviceId, Math.max(p.prekeyId, this.highest.get(p.deviceId) ?? 0));
  }
  toBytes(): Bytes {
    return enc(...[...this.highest.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([d, i]) => enc(uuidBytes(d), i)));
  }
  static fromBytes(data: Uint8Array): ClaimLedger {
    const ledger = new ClaimLedger();
    for (const item of dec(data)) {
      const pair = dec(item);
      if (pair.length !== 2 || pair[0]!.length !== 16) throw new MalformedError("one-time prekey ledger is malformed");
      ledger.highest.set(uuidText(pair[0]!), fieldInt(pair[1]!));
    }
    return ledger;
  }
}

export interface Selection {
  readonly recipients: Recipient[];
  readonly refusals: CryptoError[];
  readonly excluded: ExcludedDeviceError[];
}

/** The prekey a sender seals this device's wrap to (§3.3): a verified one-time prekey, else the signed one. */
export async function choosePrekey(roster: Roster, deviceId: string, claimed: OneTimePrekey | null, signed: SignedPrekey | null, nowMs: number, ledger: ClaimLedger): Promise<[Recipient, CryptoError | null]> {
  const device = roster.device(deviceId);
  if (!device) throw new UntrustedSenderError(`device ${deviceId} is not in the verified roster`);
  let refusal: CryptoError | null = null;
  if (claimed) {
    try {
      const publicKey = await verifyOneTimePrekey(claimed, deviceId, device.signingKey);
      ledger.check(claimed);
      ledger.record(claimed);
      return [{ deviceId, prekeyId: claimed.prekeyId, publicKey, prekeyType: PREKEY_ONE_TIME }, null];
    } catch (e) {
      if (!(e instanceof CryptoError)) throw e;
      refusal = e;
    }
  }
  if (!signed || signed.deviceId !== deviceId) throw new KeyUnavailableError(`no usable prekey for device ${deviceId}`);
  const publicKey = await verifyPrekey(signed, device.signingKey, nowMs);
  return [{ deviceId, prekeyId: signed.prekeyId, publicKey, prekeyType: PREKEY_SIGNED }, refusal];
}

/** `choosePrekey` per device; a device none of whose prekeys verifies is left out, not the send. */
export async function selectRecipients(roster: Roster, devices: Iterable<string>, signed: ReadonlyMap<string, SignedPrekey>, claimed: ReadonlyMap<string, OneTimePrekey | null>, nowMs: number, ledger: ClaimLedger): Promise<Selection> {
  const sel: Selection = { recipients: [], refusals: [], excluded: [] };
  for (const deviceId of devices) {
    try {
      const [r, refusal] = await choosePrekey(roster, deviceId, claimed.get(deviceId) ?? null, signed.get(deviceId) ?? null, nowMs, ledger);
      sel.recipients.push(r);
      if (refusal) sel.refusals.push(refusal);
    } catch (e) {
      if (e instanceof SignatureError || e instanceof KeyUnavailableError) {
        sel.excluded.push(new ExcludedDeviceError(deviceId, roster.device(deviceId)?.memberId ?? null, e.message));
        continue;
      }
      throw e;
    }
  }
  return sel;
}

/** The claim route's answer (§3.2), strictly: only requested devices, each at most once. */
export function parseClaim(items: unknown, requested: readonly string[]): Map<string, OneTimePrekey> {
  if (!Array.isArray(items)) throw new MalformedError("claim: items must be a list");
  const out = new Map<string, OneTimePrekey>();
  const wanted = new Set(requested);
  const seen = new Set<string>();
  items.forEach((item: unknown, i) => {
    const o = item as Record<string, unknown>;
    if (typeof item !== "object" || item === null || Object.keys(o).length !== 2 || !Object.hasOwn(o, "device_id") || !Object.hasOwn(o, "one_time_prekey")) {
      throw new MalformedError(`claim.items[${i}]: expected device_id and one_time_prekey`);
    }
    uuidBytes(o.device_id, `claim.items[${i}].device_id`);
    const deviceId = o.device_id as string;
    if (!wanted.has(deviceId) || seen.has(deviceId)) throw new MalformedError(`claim.items[${i}]: device ${deviceId} was not asked for once`);
    seen.add(deviceId);
    if (o.one_time_prekey !== null) out.set(deviceId, oneTimePrekeyFromJson(o.one_time_prekey, `claim.items[${i}].one_time_prekey`));
  });
  return out;
}
