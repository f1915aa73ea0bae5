/**
 * One device's sans-I/O state in one group: send, receive, hold keys (PROTOCOL.md §6–7), as
 * `crypto/session.py`. The receive path runs §7's steps in order and changes state only after
 * every check has passed; `exportState` is byte-compatible with the Python SDK's.
 */

import { type Bytes, uuidBytes, uuidText } from "./bytes";
import { dec, enc, fieldInt } from "./encoding";
import { KeyUnavailableError, LogRollbackError, MalformedError, MissingChainError, ReplayError, StaleChainError, UntrustedSenderError } from "./errors";
import { BROADCAST, type Envelope, type Header, parseEnvelope, PREKEY_ONE_TIME, TARGETED } from "./envelope";
import { checkGrant, checkGrantSender, checkNewKeys, coordinatorDeviceAt } from "./authority";
import { decodeDocumentKeys, type DocumentKey, documentKeyFromBytes, encodeDocumentKeys, type HistoryGrant, historyGrantBytes, historyGrantFromBytes } from "./documents";
import { ContentType, type Labels, NO_LABELS } from "./labels";
import type { OneTimePrekeyStore } from "./prekeys";
import type { AgreementKey, SigningKey } from "./primitives";
import { chainStep, messageKey, ReceiverChain, SenderChain } from "./ratchet";
import { type Device, detectFork, envelopeEpochSeq, type Roster } from "./roster";
import { decryptBody, openWrap, type Recipient, sealBroadcast, sealTargeted, verifyEnvelope } from "./seal";

export const REPLAY_CACHE_SIZE = 100_000;
export const CHAINS_PER_SENDER = 4;

/** KEY_REQUEST content `enc(chain_id, index)` (§6.3), strictly. */
export function parseKeyRequest(content: Uint8Array): [string, number] {
  const f = dec(content);
  if (f.length !== 2 || f[0]!.length !== 16 || f[1]!.length !== 8) throw new MalformedError("key request: expected enc(chain_id, u64 index)");
  return [uuidText(f[0]!), fieldInt(f[1]!)];
}

/** HISTORY_TRANSFER content: receiver chains, document keys, an opaque archive. */
export interface HistoryBundle {
  chains: ReceiverChain[];
  documentKeys: DocumentKey[];
  archive: Bytes;
}

export function historyBundleBytes(b: HistoryBundle): Bytes {
  return enc(enc(...b.chains.map((c) => c.toBytes())), encodeDocumentKeys(b.documentKeys), b.archive);
}

export function historyBundleFromBytes(data: Uint8Array): HistoryBundle {
  const f = dec(data);
  if (f.length !== 3) throw new MalformedError("history bundle is malformed");
  return { chains: dec(f[0]!).map((c) => ReceiverChain.fromBytes(c)), documentKeys: decodeDocumentKeys(f[1]!), archive: f[2]! };
}

/** A verified, decrypted envelope; key-carrying content has already been installed. */
export interface Received {
  readonly header: Header;
  readonly senderMemberId: string;
  readonly contentType: number;
  readonly content: Bytes;
  /** What opened it (key ‖ nonce, or the content key): kept by coordinators for history grants. */
  readonly itemKey: Bytes;
}

const slotOf = (device: string, chain: string) => `${device}/${chain}`;
const docSlot = (k: DocumentKey) => `${k.documentId}/${k.version}`;

export class GroupSession {
  readonly memberId: string;
  senderChain: SenderChain | null = null;
  receiverChains = new Map<string, ReceiverChain>();
  documentKeys = new Map<string, DocumentKey>();
  private seen = new Set<string>();

  constructor(
    private currentRoster: Roster,
    readonly deviceId: string,
    private readonly signingKey: SigningKey,
    /** Signed prekey pairs by id. */
    readonly prekeys: Map<number, AgreementKey> = new Map(),
    readonly oneTimePrekeys: OneTimePrekeyStore | null = null,
  ) {
    const me = currentRoster.device(deviceId);
    if (!me) throw new KeyUnavailableError("this device is not in the verified roster");
    this.memberId = me.memberId;
  }

  toString(): string {
    return `GroupSession(group=${this.currentRoster.groupId}, device=${this.deviceId})`;
  }

  get roster(): Roster {
    return this.currentRoster;
  }

  /** Move to a newer verified roster; a fork or rollback is refused. */
  updateRoster(roster: Roster): void {
    detectFork(this.currentRoster, roster);
    if (roster.headSeq < this.currentRoster.headSeq) throw new LogRollbackError("the new roster is older than the one already verified");
    this.currentRoster = roster;
    for (const [k, c] of this.receiverChains) if (!roster.device(c.senderDeviceId)) this.receiverChains.delete(k);
  }

  private checkCanSend(): void {
    if (!this.currentRoster.device(this.deviceId)) throw new UntrustedSenderError("this device has been revoked and may not send");
  }

  async encryptTargeted(contentType: number, content: Uint8Array, recipients: readonly Recipient[], nowMs: number, messageId?: string, labels: Labels = NO_LABELS): Promise<Bytes> {
    this.checkCanSend();
    for (const r of recipients) if (!this.currentRoster.device(r.deviceId)) throw new UntrustedSenderError(`device ${r.deviceId} is not in the verified roster`);
    return sealTargeted({ signingKey: this.signingKey, senderDeviceId: this.deviceId, groupId: this.currentRoster.groupId, epochId: this.currentRoster.epochId, contentType, content, recipients, ts: nowMs, labels, ...(messageId ? { messageId } : {}) });
  }

  needsRotation(nowMs: number): boolean {
    if (!this.senderChain) return true;
    return this.senderChain.needsRotation(nowMs, Math.max(0, ...this.currentRoster.removalSeqs));
  }

  /** Start a new chain and return the SENDER_KEY envelope that distributes it. */
  async rotateSenderChain(recipients: readonly Recipient[], nowMs: number): Promise<Bytes> {
    this.checkCanSend();
    const chain = SenderChain.create(this.deviceId, nowMs, this.currentRoster.headSeq);
    const envelope = await this.encryptTargeted(ContentType.SENDER_KEY, chain.distribution(), recipients, nowMs);
    this.senderChain = chain;
    return envelope;
  }

  /** Encrypt to the whole group on the current chain; refuses if rotation is due. */
  async encryptBroadcast(contentType: number, content: Uint8Array, nowMs: number, messageId?: string, labels: Labels = NO_LABELS): Promise<Bytes> {
    this.checkCanSend();
    if (!this.senderChain || this.needsRotation(nowMs)) throw new StaleChainError("rotate the sender chain before broadcasting");
    return sealBroadcast({ signingKey: this.signingKey, senderDeviceId: this.deviceId, groupId: this.currentRoster.groupId, epochId: this.currentRoster.epochId, contentType, content, chain: this.senderChain, ts: nowMs, labels, ...(messageId ? { messageId } : {}) });
  }

  /** KEY_REQUEST to the chain's owner device only. */
  requestChain(chainId: string, index: number, owner: Recipient, nowMs: number): Promise<Bytes> {
    return this.encryptTargeted(ContentType.KEY_REQUEST, enc(uuidBytes(chainId), index), [owner], nowMs);
  }

  /** Re-share this device's chain to a roster device from `index`; null when a fresh chain is needed. */
  async answerKeyRequest(requester: Recipient, chainId: string, index: number, nowMs: number): Promise<Bytes | null> {
    const dev = this.currentRoster.device(requester.deviceId);
    if (!dev || dev.deviceId === this.deviceId) throw new UntrustedSenderError(`key request from device ${requester.deviceId}, not in the verified roster`);
    const chain = this.senderChain;
    if (!chain || chain.chainId !== chainId || this.needsRotation(nowMs)) return null;
    const content = chain.shareFrom(index);
    return content ? this.encryptTargeted(ContentType.SENDER_KEY, content, [requester], nowMs) : null;
  }

  private isCoordinator(): boolean {
    return this.currentRoster.members.get(this.memberId)?.role === "coordinator";
  }

  /**
   * On a coordinator's device, the key ‖ nonce its next broadcast will use (its own cases and
   * reviews are granted too, PROTOCOL §9.1 "Keeping keys"); empty elsewhere. Call right
   * before `encryptBroadcast` (`messaging/history.py: next_broadcast_key`).
   */
  nextBroadcastKey(): Bytes {
    const chain = this.senderChain;
    if (!chain || !this.isCoordinator()) return new Uint8Array();
    const [mk] = chainStep(chain.chainKey);
    const [key, nonce] = messageKey(mk, chain.chainId, chain.index);
    return new Uint8Array([...key, ...nonce]);
  }

  /** Seal a HISTORY_GRANT to the granted member's devices once the log holds the grant (§9.1). */
  grantHistory(grant: HistoryGrant, recipients: readonly Recipient[], nowMs: number): Promise<Bytes> {
    if (!this.isCoordinator()) throw new UntrustedSenderError("only a coordinator's device may send a history grant");
    const member = this.currentRoster.members.get(grant.memberId);
    if (!member || !member.historyScopes.has(grant.scope)) throw new UntrustedSenderError(`the log holds no ${grant.scope} grant for this member`);
    if (recipients.some((r) => !member.devices.has(r.deviceId))) throw new UntrustedSenderError("history grants go only to the granted member's devices");
    return this.encryptTargeted(ContentType.HISTORY_GRANT, historyGrantBytes(grant), recipients, nowMs);
  }

  /** Chain states and document keys for one of this member's new devices, with an archive. */
  exportHistory(archive: Bytes = new Uint8Array()): HistoryBundle {
    return { chains: [...this.receiverChains.values()], documentKeys: [...this.documentKeys.values()], archive };
  }

  /** Seal a history bundle to another device of this same member, and to nobody else (§9). */
  transferHistory(bundle: HistoryBundle, recipient: Recipient, nowMs: number): Promise<Bytes> {
    const dev = this.currentRoster.device(recipient.deviceId);
    if (!dev || dev.memberId !== this.memberId || dev.deviceId === this.deviceId) throw new UntrustedSenderError("history goes only to another device of the same member");
    return this.encryptTargeted(ContentType.HISTORY_TRANSFER, historyBundleBytes(bundle), [recipient], nowMs);
  }

  /** Chains, document keys and the replay cache, in the Python SDK's byte form. */
  exportState(): Bytes {
    const seen = [...this.seen].map((s) => {
      const [dev, mid] = s.split("/") as [string, string];
      return enc(uuidBytes(dev), uuidBytes(mid));
    });
    return enc(this.senderChain ? this.senderChain.toBytes() : new Uint8Array(), enc(...[...this.receiverChains.values()].map((c) => c.toBytes())), encodeDocumentKeys([...this.documentKeys.values()]), enc(...seen));
  }

  restoreState(data: Uint8Array): void {
    const f = dec(data);
    if (f.length !== 4) throw new MalformedError("session state is malformed");
    const [sender, receivers, documents, seen] = f as [Bytes, Bytes, Bytes, Bytes];
    this.senderChain = sender.length ? SenderChain.fromBytes(sender) : null;
    this.receiverChains = new Map();
    for (const raw of dec(receivers)) {
      const c = ReceiverChain.fromBytes(raw);
      if (this.currentRoster.device(c.senderDeviceId)) this.receiverChains.set(slotOf(c.senderDeviceId, c.chainId), c);
    }
    this.documentKeys = new Map(decodeDocumentKeys(documents).map((k) => [docSlot(k), k]));
    this.seen = new Set();
    for (const item of dec(seen)) {
      const pair = dec(item);
      if (pair.length !== 2) throw new MalformedError("session state is malformed");
      this.seen.add(`${uuidText(pair[0]!)}/${uuidText(pair[1]!)}`);
    }
  }

  /** §7 step 3: group, epoch, sender device and per-type sender policy. */
  private checkRoster(h: Header): [Device, number] {
    const roster = this.currentRoster;
    if (h.groupId !== roster.groupId) throw new UntrustedSenderError("envelope is for another group");
    const epochSeq = envelopeEpochSeq(roster, h.epochId);
    const sender = roster.device(h.senderDeviceId);
    if (!sender) throw new UntrustedSenderError("sender device is not in the verified roster");
    if (sender.deviceId === this.deviceId) throw new ReplayError("envelope was sent by this device");
    if (h.contentType === ContentType.LIBRARY_GRANT) {
      const role = roster.members.get(sender.memberId)?.role;
      if (role !== "coordinator" || !roster.members.get(this.memberId)?.historyScopes.has("library")) throw new UntrustedSenderError("library grant without a coordinator and a logged grant");
    }
    if (h.contentType === ContentType.DOCUMENT_KEY || h.contentType === ContentType.LIBRARY_GRANT) coordinatorDeviceAt(roster, sender.deviceId, h.epochId, "document key");
    if (h.contentType === ContentType.HISTORY_GRANT) checkGrantSender(roster, sender, this.memberId);
    if (h.contentType === ContentType.HISTORY_TRANSFER && sender.memberId !== this.memberId) throw new UntrustedSenderError("history transfer from a device of another member");
    if (h.kind === TARGETED && !h.recipients.includes(this.deviceId)) throw new KeyUnavailableError("this device is not a recipient of the envelope");
    return [sender, epochSeq];
  }

  /** Check roster, signature, replay, then open and decrypt; state changes only on success. */
  async decrypt(data: Uint8Array): Promise<Received> {
    const env: Envelope = parseEnvelope(data);
    const h = env.header;
    const [sender, epochSeq] = this.checkRoster(h);
    await verifyEnvelope(env, sender.signingKey);
    const seenKey = `${h.senderDeviceId}/${h.messageId}`;
    if (this.seen.has(seenKey)) throw new ReplayError("duplicate message id from this device");
    let content: Bytes;
    let itemKey: Bytes;
    if (h.kind === BROADCAST) {
      const [chainId, index] = env.broadcastPosition();
      const chain = this.receiverChains.get(slotOf(sender.deviceId, chainId));
      if (!chain) throw new MissingChainError(`no sender key for chain ${chainId} of device ${sender.deviceId}`, sender.deviceId, chainId, index);
      if (this.currentRoster.removedBetween(chain.epochSeq, epochSeq)) throw new StaleChainError("broadcast on a chain created before a removal");
      const pending = chain.derive(index);
      content = await decryptBody(env, pending.key, pending.nonce);
      chain.commit(pending);
      itemKey = new Uint8Array([...pending.key, ...pending.nonce]);
    } else {
      const wrap = env.wrapFor(this.deviceId);
      itemKey = await openWrap(env, this.deviceId, (type, id) => (type === PREKEY_ONE_TIME ? this.oneTimePrekeys?.privates.get(id) : this.prekeys.get(id)));
      content = await decryptBody(env, itemKey);
      this.acceptKeys(h, sender, epochSeq, content);
      if (wrap && wrap.prekeyType === PREKEY_ONE_TIME) this.oneTimePrekeys?.consume(wrap.prekeyId); // deleted after first use
    }
    this.seen.add(seenKey);
    if (this.seen.size > REPLAY_CACHE_SIZE) this.seen.delete(this.seen.values().next().value!);
    return { header: h, senderMemberId: sender.memberId, contentType: h.contentType, content, itemKey };
  }

  /** Install key material from a verified targeted message (parse fully, then mutate). */
  private acceptKeys(h: Header, sender: Device, epochSeq: number, content: Uint8Array): void {
    const ctype = h.contentType;
    if (ctype === ContentType.SENDER_KEY) {
      this.installChain(ReceiverChain.fromDistribution(content, sender.deviceId, epochSeq));
    } else if (ctype === ContentType.DOCUMENT_KEY || ctype === ContentType.LIBRARY_GRANT) {
      const keys = ctype === ContentType.DOCUMENT_KEY ? [documentKeyFromBytes(content)] : decodeDocumentKeys(content);
      checkNewKeys(this.documentKeys, keys);
      for (const k of keys) this.documentKeys.set(docSlot(k), k);
    } else if (ctype === ContentType.KEY_REQUEST) {
      parseKeyRequest(content);
    } else if (ctype === ContentType.HISTORY_GRANT) {
      checkGrant(this.currentRoster, historyGrantFromBytes(content), this.memberId);
    } else if (ctype === ContentType.HISTORY_TRANSFER) {
      const bundle = historyBundleFromBytes(content);
      for (const c of bundle.chains) {
        const slot = slotOf(c.senderDeviceId, c.chainId);
        if (this.currentRoster.device(c.senderDeviceId) && !this.receiverChains.has(slot)) this.receiverChains.set(slot, c);
      }
      for (const k of bundle.documentKeys) this.documentKeys.set(docSlot(k), k);
    }
  }

  private installChain(chain: ReceiverChain): void {
    const slot = slotOf(chain.senderDeviceId, chain.chainId);
    if (this.receiverChains.has(slot)) throw new ReplayError("this sender chain was already installed");
    this.receiverChains.set(slot, chain);
    const mine = [...this.receiverChains.values()].filter((c) => c.senderDeviceId === chain.senderDeviceId).sort((a, b) => a.epochSeq - b.epochSeq || a.createdTs - b.createdTs);
    for (const old of mine.slice(0, -CHAINS_PER_SENDER)) this.receiverChains.delete(slotOf(old.senderDeviceId, old.chainId));
  }
}
