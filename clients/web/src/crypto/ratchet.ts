/** Sender-key hash ratchet for group broadcasts (PROTOCOL.md §6), as `crypto/ratchet.py`. */

import { type Bytes, randomBytes, randomUuid, uuidBytes, uuidText } from "./bytes";
import { dec, enc, fieldInt, sigInput } from "./encoding";
import { KeyUnavailableError, MalformedError, ReplayError, SkippedKeyDroppedError } from "./errors";
import { hkdfSha256, hmacSha256 } from "./primitives";

export const MAX_SKIP = 2000;
export const MAX_SKIPPED = 2000;
export const SKIPPED_MAX_AGE_MS = 7 * 86_400_000;
export const ROTATE_AFTER_MS = 7 * 86_400_000;
export const ROTATE_AFTER_MESSAGES = 10_000;
const MK_CONST = new Uint8Array([1]);
const CK_CONST = new Uint8Array([2]);

/** (MK_i, CK_{i+1}) from CK_i. */
export function chainStep(chainKey: Uint8Array): [Bytes, Bytes] {
  return [hmacSha256(chainKey, MK_CONST), hmacSha256(chainKey, CK_CONST)];
}

/** MK_i → AES-256 key and 12-byte nonce bound to chain and index. */
export function messageKey(mk: Uint8Array, chainId: string, index: number): [Bytes, Bytes] {
  const okm = hkdfSha256(mk, sigInput("msg-key", uuidBytes(chainId), index), 44);
  return [okm.slice(0, 32), okm.slice(32)];
}

/**
 * This device's own chain. Keeps the key at `startIndex` (≤ MAX_SKIP behind) for re-sharing
 * on a KEY_REQUEST (§6.3).
 */
export class SenderChain {
  startIndex: number;
  startKey: Bytes;
  constructor(
    readonly chainId: string,
    readonly ownerDeviceId: string,
    public index: number,
    public chainKey: Bytes,
    readonly createdTs: number,
    readonly epochSeq: number,
    startIndex = -1,
    startKey: Bytes = new Uint8Array(),
  ) {
    this.startIndex = startIndex < 0 ? index : startIndex;
    this.startKey = startIndex < 0 ? chainKey : startKey;
  }

  static create(ownerDeviceId: string, nowMs: number, epochSeq: number): SenderChain {
    return new SenderChain(randomUuid(), ownerDeviceId, 0, randomBytes(32), nowMs, epochSeq);
  }

  /** (index, key, nonce) for the next message; advances past it. */
  nextKey(): [number, Bytes, Bytes] {
    if (this.index >= 2 ** 32) throw new KeyUnavailableError("sender chain exhausted; rotate");
    const [mk, ck] = chainStep(this.chainKey);
    this.chainKey = ck;
    const index = this.index++;
    if (this.index - this.startIndex > MAX_SKIP) {
      this.startKey = chainStep(this.startKey)[1];
      this.startIndex += 1;
    }
    const [key, nonce] = messageKey(mk, this.chainId, index);
    return [index, key, nonce];
  }

  shareFrom(index: number): Bytes | null {
    if (index >= this.index) return this.distribution();
    if (index < this.startIndex) return null;
    let ck = this.startKey;
    for (let i = 0; i < index - this.startIndex; i++) ck = chainStep(ck)[1];
    return enc(uuidBytes(this.chainId), index, ck, this.createdTs);
  }

  needsRotation(nowMs: number, lastRemovalSeq: number): boolean {
    return lastRemovalSeq > this.epochSeq || nowMs - this.createdTs >= ROTATE_AFTER_MS || this.index >= ROTATE_AFTER_MESSAGES;
  }

  /** SENDER_KEY content: `enc(chain_id, i, CK_i, created_ts)`. */
  distribution(): Bytes {
    return enc(uuidBytes(this.chainId), this.index, this.chainKey, this.createdTs);
  }

  toBytes(): Bytes {
    return enc(uuidBytes(this.chainId), uuidBytes(this.ownerDeviceId), this.index, this.chainKey, this.createdTs, this.epochSeq, this.startIndex, this.startKey);
  }

  static fromBytes(data: Uint8Array): SenderChain {
    const f = dec(data);
    if (f.length !== 8 || f[0]!.length !== 16 || f[1]!.length !== 16 || f[3]!.length !== 32 || f[7]!.length !== 32) {
      throw new MalformedError("sender chain record is malformed");
    }
    const [index, created, epoch, start] = [f[2]!, f[4]!, f[5]!, f[6]!].map(fieldInt) as [number, number, number, number];
    if (!(index - MAX_SKIP <= start && start <= index)) throw new MalformedError("sender chain record is malformed");
    return new SenderChain(uuidText(f[0]!), uuidText(f[1]!), index, f[3]!, created, epoch, start, f[7]!);
  }
}

/** A derived key, committed to the chain only after its message authenticates. */
export interface PendingKey {
  readonly index: number;
  readonly key: Bytes;
  readonly nonce: Bytes;
  readonly nextIndex: number;
  readonly chainKey: Bytes;
  readonly newSkipped: ReadonlyArray<readonly [number, Bytes]>;
  readonly nowMs: number;
}

/** Another device's chain as received; skipped keys bounded by count and age (§6.4). */
export class ReceiverChain {
  constructor(
    readonly chainId: string,
    readonly senderDeviceId: string,
    public nextIndex: number,
    public chainKey: Bytes,
    readonly createdTs: number,
    readonly epochSeq: number,
    /** index → [MK, stored ms], in index order. */
    readonly skipped: Map<number, [Bytes, number]> = new Map(),
    public droppedBelow = 0,
  ) {}

  static fromDistribution(content: Uint8Array, senderDeviceId: string, epochSeq: number): ReceiverChain {
    const f = dec(content);
    if (f.length !== 4 || f[0]!.length !== 16 || f[2]!.length !== 32) throw new MalformedError("sender key distribution is malformed");
    return new ReceiverChain(uuidText(f[0]!), senderDeviceId, fieldInt(f[1]!), f[2]!, fieldInt(f[3]!), epochSeq);
  }

  /** Derive the key for `index` without changing state. */
  derive(index: number, nowMs: number = Date.now()): PendingKey {
    if (index < this.nextIndex) {
      let kept = this.skipped.get(index) ?? null;
      let dropped: boolean;
      if (kept !== null && nowMs - kept[1] > SKIPPED_MAX_AGE_MS) {
        kept = null;
        dropped = true;
      } else {
        dropped = index < this.droppedBelow;
      }
      if (kept === null && dropped) {
        throw new SkippedKeyDroppedError(`message index ${index} on this chain: its skipped key was dropped (at most ${MAX_SKIPPED} are kept per chain, for at most 7 days)`);
      }
      if (kept === null) throw new ReplayError(`message index ${index} on this chain was already used`);
      const [key, nonce] = messageKey(kept[0], this.chainId, index);
      return { index, key, nonce, nextIndex: this.nextIndex, chainKey: this.chainKey, newSkipped: [], nowMs };
    }
    if (index - this.nextIndex > MAX_SKIP) throw new KeyUnavailableError(`message index ${index} is more than ${MAX_SKIP} ahead`);
    let ck = this.chainKey;
    const skipped: [number, Bytes][] = [];
    for (let i = this.nextIndex; i < index; i++) {
      const [mk, next] = chainStep(ck);
      skipped.push([i, mk]);
      ck = next;
    }
    const [mk, next] = chainStep(ck);
    const [key, nonce] = messageKey(mk, this.chainId, index);
    return { index, key, nonce, nextIndex: index + 1, chainKey: next, newSkipped: skipped, nowMs };
  }

  commit(p: PendingKey): void {
    this.skipped.delete(p.index);
    for (const [i, mk] of p.newSkipped) this.skipped.set(i, [mk, p.nowMs]);
    this.nextIndex = p.nextIndex;
    this.chainKey = p.chainKey;
    this.evict(p.nowMs);
  }

  /** Drop skipped keys older than 7 days, then the lowest indices beyond 2,000 kept. */
  evict(nowMs: number): number[] {
    const gone: number[] = [];
    for (const [index, [, stored]] of this.skipped) {
      if (this.skipped.size <= MAX_SKIPPED && nowMs - stored <= SKIPPED_MAX_AGE_MS) break;
      this.skipped.delete(index);
      this.droppedBelow = Math.max(this.droppedBelow, index + 1);
      gone.push(index);
    }
    return gone;
  }

  toBytes(): Bytes {
    const items = [...this.skipped.entries()].sort((a, b) => a[0] - b[0]).map(([i, [mk, ts]]) => enc(i, mk, ts));
    return enc(uuidBytes(this.chainId), uuidBytes(this.senderDeviceId), this.nextIndex, this.chainKey, this.createdTs, this.epochSeq, enc(...items), this.droppedBelow);
  }

  static fromBytes(data: Uint8Array): ReceiverChain {
    const f = dec(data);
    if (f.length !== 8 || f[0]!.length !== 16 || f[1]!.length !== 16 || f[3]!.length !== 32) throw new MalformedError("receiver chain record is malformed");
    const [next, created, epoch, dropped] = [f[2]!, f[4]!, f[5]!, f[7]!].map(fieldInt) as [number, number, number, number];
    const skipped = new Map<number, [Bytes, number]>();
    for (const item of dec(f[6]!)) {
      const triple = dec(item);
      if (triple.length !== 3 || triple[1]!.length !== 32) throw new MalformedError("skipped key record is malformed");
      const index = fieldInt(triple[0]!);
      const stored = fieldInt(triple[2]!);
      if (index >= next || skipped.has(index)) throw new MalformedError("skipped key record is malformed");
      skipped.set(index, [triple[1]!, stored]);
    }
    if (skipped.size > MAX_SKIPPED) throw new MalformedError("receiver chain holds more skipped keys than allowed");
    const sorted = new Map([...skipped.entries()].sort((a, b) => a[0] - b[0]));
    return new ReceiverChain(uuidText(f[0]!), uuidText(f[1]!), next, f[3]!, created, epoch, sorted, dropped);
  }
}
