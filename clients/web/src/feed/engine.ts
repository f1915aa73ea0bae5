/**
 * A group as this browser takes part in it, mirroring the Python SDK (`groups/client.py`,
 * `messaging/client.py`): join with the coordinator's invitation, certify this device once
 * admitted, keep a session over the verified roster, send alerts on a distributed sender
 * chain, and open every pushed item through the crypto package, refusing what fails.
 */
import { ApiError, NetworkError } from "../api/client";
import { authed } from "../auth/session";
import { b64d, b64e, b64StdDecode, b64StdEncode, ContentType, CryptoError, deviceAt, equal, fingerprint, ForkError, fromUtf8, GroupSession, historyBundleFromBytes, Invitation, joinMac, LogEntry, LogWriter, makeLabels, type MessageRef, MissingChainError, parseEnvelope, type Roster, RoutingMismatchError, selectRecipients, type Selection, type SignedPrekey, prekeyFromJson, toHex, TrustError, UntrustedSenderError, utf8, verifyEnvelope, verifyLog } from "../crypto";
import { checkIdentity, checkReceipt, checkRouting, forgetHead, forkRecord, knownTail, parseStreamItem, readLog, receiptBody, refreshRoster, rememberHead, type StreamItem, unfreeze } from "../protocol";
import { type Imported, keepGrant, mergeRecords, observe, observeSent, parseTransferArchive } from "../records/history";
import { type Incoming, incoming as makeIncoming, INBOX_KINDS, pyIsoFromMs } from "../records/incoming";
import type { Vault } from "./vault";

/** An authenticated API call (the records layer passes its own, for its tests). */
type Call = <T>(method: string, path: string, body?: unknown) => Promise<T>;
const authedCall: Call = (method, path, body) => authed(method, path, body === undefined ? {} : { body });

export interface GroupSummary {
  id: string;
  name: string;
  status: string;
  my_role: string;
}

const rootPin = (g: string) => `root-pin:${g}`;
const sessionName = (g: string) => `session:${g}`;
const holdersName = (g: string) => `chain-holders:${g}`;

export const listGroups = () => authed<GroupSummary[]>("GET", "/groups");

/** Answer an invitation: check the root it names, pin it, send the member key with its MAC. */
export async function requestJoin(vault: Vault, text: string, userId: string): Promise<string> {
  const invitation = Invitation.fromText(text);
  const member = vault.data.memberKey;
  if (!member) throw new Error("this device does not hold your member key");
  const answer = await authed<{ genesis: unknown }>("POST", `/groups/${invitation.groupId}/invitations/${b64e(invitation.invitationId)}/join-request`, {
    body: { member_key: b64e(member.publicKey), mac: b64e(joinMac(invitation, userId, member.publicKey)) },
  });
  const genesis = LogEntry.fromJson(answer.genesis);
  const root = b64d(genesis.body.root_key, 32, "genesis root_key");
  invitation.checkRoot(invitation.groupId, root);
  await verifyLog(root, invitation.groupId, [genesis]);
  const pinned = vault.data.secrets.get(rootPin(invitation.groupId));
  if (pinned && b64e(pinned) !== b64e(root)) throw new Error("the group's root key changed since you pinned it");
  vault.data.secrets.set(rootPin(invitation.groupId), root);
  await vault.save();
  return invitation.groupId;
}

export const isPinned = (vault: Vault, groupId: string) => vault.data.secrets.has(rootPin(groupId));

export function rootFingerprint(vault: Vault, groupId: string): string | null {
  const root = vault.data.secrets.get(rootPin(groupId));
  return root ? fingerprint(groupId, root) : null;
}

/**
 * The newest roster this tab verified per group, whichever screen read it: an open channel
 * moves to it before opening the next item, so an entry this device just appended (a device
 * revoked, a member removed from the group screen) binds the live feed at once (§10), not
 * only after the next stream item that makes it re-read the log.
 */
const newestVerified = new WeakMap<Vault, Map<string, Roster>>();
const newestOf = (vault: Vault) => {
  let byGroup = newestVerified.get(vault);
  if (!byGroup) newestVerified.set(vault, (byGroup = new Map()));
  return byGroup;
};

const logPage = (groupId: string) => (after: number, limit: number) => authed("GET", `/groups/${groupId}/log?after_seq=${after}&limit=${limit}`);

function pinnedRoot(vault: Vault, groupId: string): Uint8Array {
  const root = vault.data.secrets.get(rootPin(groupId));
  if (!root) throw new Error("no trust root pinned for this group: answer your invitation first");
  return root;
}

/** The verified roster (fork freezes, rollback refused, own-key rule), head persisted. */
export async function roster(vault: Vault, groupId: string): Promise<Roster> {
  let result: Roster;
  try {
    result = await refreshRoster({ fetchPage: logPage(groupId), secrets: vault.data.secrets, groupId, rootKey: pinnedRoot(vault, groupId), deviceId: vault.deviceId, signingKey: vault.data.signingKey.publicKey });
  } catch (error) {
    if (error instanceof ForkError) await vault.save(); // the freeze outlives this page
    throw error;
  }
  await vault.save();
  const newest = newestOf(vault);
  if (result.headSeq > (newest.get(groupId)?.headSeq ?? -1)) newest.set(groupId, result);
  return result;
}

/** The head this device verified last, as `cordon group head` prints it (seq, 16-digit epoch id). */
export function verifiedHead(vault: Vault, groupId: string): { seq: number; epoch: string } | null {
  const head = knownTail(vault.data.secrets, groupId).at(-1);
  return head ? { seq: head.seq, epoch: head.hashHex().slice(0, 16) } : null;
}

/** The fork this device recorded for the group (reason and proof), or null when not frozen. */
export const frozenBy = (vault: Vault, groupId: string) => forkRecord(vault.data.secrets, groupId);

/**
 * Lift a freeze once the coordinator confirmed their current head out of band (PROTOCOL §4.7,
 * the SDK's `resolve_fork`): the served log must verify from the pinned root and end at
 * exactly that epoch, which becomes this device's persisted head.
 */
export async function resolveFork(vault: Vault, groupId: string, confirmedEpoch: string): Promise<number> {
  const confirmed = confirmedEpoch.replace(/\s+/g, "").toLowerCase();
  if (confirmed.length < 16) throw new TrustError("give at least the first 16 hex digits of the confirmed epoch id");
  const served = await verifyLog(pinnedRoot(vault, groupId), groupId, await readLog(logPage(groupId)));
  const epoch = toHex(served.epochId);
  if (!epoch.startsWith(confirmed)) {
    throw new TrustError(`the server's log head (seq ${served.headSeq}, epoch ${epoch.slice(0, 16)}) is not the head your coordinator confirmed: the group stays frozen; compare again`);
  }
  unfreeze(vault.data.secrets, groupId);
  forgetHead(vault.data.secrets, groupId);
  rememberHead(vault.data.secrets, served);
  newestOf(vault).set(groupId, served); // the confirmed log replaces whatever this tab held
  await vault.save();
  return served.headSeq;
}

/**
 * Once the coordinator admitted this member: certify this device with the member key. A
 * device without the member's certified key (a linked device) cannot: the first device links
 * it (`devices/linking.ts`), as the SDK's `_certify_self` says.
 */
export function certifySelf(vault: Vault, groupId: string, userId: string): Promise<Certified> {
  // One at a time per group: the live feed and a screen opening the group both certify, and two
  // entries written at the same head would have the server refuse the second.
  const slot = `${vault.deviceId}/${groupId}`;
  let running = certifying.get(slot);
  if (!running) {
    running = certifyOnce(vault, groupId, userId).finally(() => certifying.delete(slot));
    certifying.set(slot, running);
  }
  return running;
}

type Certified = "certified" | "already" | "not_admitted" | "not_linked";
const certifying = new Map<string, Promise<Certified>>();

async function certifyOnce(vault: Vault, groupId: string, userId: string): Promise<Certified> {
  const current = await roster(vault, groupId);
  if (current.device(vault.deviceId)) return "already";
  const member = current.members.get(userId);
  const key = vault.data.memberKey;
  if (!member) return "not_admitted";
  if (!key || !equal(key.publicKey, member.memberKey)) return "not_linked";
  const writer = new LogWriter(groupId, [...current.entries]);
  const entry = await writer.addDevice(key, userId, vault.deviceId, vault.data.signingKey.publicKey, Date.now());
  await authed("POST", `/groups/${groupId}/log`, { body: { entry: entry.toJson() } });
  await roster(vault, groupId);
  return "certified";
}

/** One displayed item: verified content, or a refusal that is never rendered as content. */
export interface FeedItem {
  seq: number;
  groupId: string;
  urgent: boolean;
  senderUserId: string | null;
  createdAt: string;
  text: string | null;
  refused: string | null;
  mine: boolean;
  /** The signed reference (sender device, message id) a receipt is signed over. */
  ref?: { senderDeviceId: string; messageId: string };
  /** A read receipt went out for it. */
  read?: boolean;
  /** Template content (a case, a reply…): its content type; shown on its own screen, not as text. */
  record?: string;
  /** The item this one answers (checked against the signed reply target), if shown. */
  parentSeq?: number | null;
  /** On this device's own items: how far each recipient device got, from signed receipts. */
  receipts?: Record<string, RecipientState>;
  /**
   * Not readable here by policy, not refused (PROTOCOL §9): a broadcast sealed at a log head
   * where this member (`joined`) or this device (`linked`) was not yet certified.
   */
  before?: "joined" | "linked";
}

/** One recipient device's signed receipts for an item this device sent. */
export interface RecipientState {
  userId: string | null;
  delivered: number | null;
  read: number | null;
}

/** A checked receipt for one of this device's items (PROTOCOL §7.2). */
export interface ReceiptUpdate {
  groupId: string;
  seq: number;
  deviceId: string;
  userId: string | null;
  status: "delivered" | "read";
  ts: number;
}

/** Which verified item sits at a seq, as its sender named it (null: none known here). */
export type RefLookup = (groupId: string, seq: number) => FeedItem | null;

/** The content type of template content (`{"type", "template", "data"}`), else null. */
export function recordType(content: Uint8Array): string | null {
  // Template content is a JSON object: text that cannot be one is not parsed (a failed parse
  // cost 1.5 ms per alert, 40 % of a 10,000-item backlog: docs/benchmarks-web.md, run F).
  let i = content[0] === 0xef && content[1] === 0xbb && content[2] === 0xbf ? 3 : 0; // BOM: TextDecoder drops it
  while (content[i] === 0x20 || content[i] === 0x09 || content[i] === 0x0a || content[i] === 0x0d) i++;
  if (content[i] !== 0x7b) return null;
  try {
    const raw = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(content)) as Record<string, unknown> | null;
    if (typeof raw === "object" && raw !== null && !Array.isArray(raw) && "template" in raw && typeof raw.type === "string") return raw.type;
  } catch {
    // plain text
  }
  return null;
}

/** The feed line of verified content: its text, or the type of template content (a case…). */
function contentLine(content: Uint8Array): { text: string | null; record?: string } {
  const record = recordType(content);
  return record === null ? { text: fromUtf8(content) } : { text: null, record };
}

/**
 * The feed line of an alert or chat a history grant brought (PROTOCOL §9.1), as `receive`
 * would have made it then: verified content with its signed identity and urgency, or the
 * refusal. Null for what the feed does not show (pre-notifications, status events). Marked
 * read: no receipt goes for it, since the server refuses receipts for items posted before the
 * member joined, and one refused holds back the others sent with it.
 */
export function grantedItem({ incoming: i, ref, urgent }: Imported): FeedItem | null {
  if (i.kind !== "alert" && i.kind !== "chat") return null;
  const base = { seq: i.seq, groupId: i.group_id, urgent, senderUserId: i.sender_user_id, createdAt: i.created_at ?? "", mine: false, read: true };
  if (!i.verified || !i.content || !ref) return { ...base, text: null, refused: i.error ?? "not verified" };
  return { ...base, ...contentLine(i.content), refused: null, parentSeq: i.parent_seq, ref };
}

/** What `receive` hands on: the feed line, the receipt to send, and the records layer's item. */
export interface Opened {
  item: FeedItem | null;
  receipt: Record<string, unknown> | null;
  /** For the records layer (cases, pre-notifications): kept in the keystore's inbox. */
  incoming: Incoming | null;
  /** A checked receipt for one of this device's own items. */
  update?: ReceiptUpdate;
  /** A verified history grant was kept for the records sync to import (PROTOCOL §9.1), or a
   * history transfer added to the records archive: the records screens re-read. */
  granted?: boolean;
  /** Feed items a HISTORY_TRANSFER from another device of this member brought (§9). */
  restored?: FeedItem[];
}

/** Options of a content send (a case, an amendment, a reply, a review). */
export interface SendOptions {
  urgent?: boolean;
  parentSeq?: number | null;
  /** The parent is a case this coordinator reviews (signed `review_of`, not `reply_to`). */
  review?: boolean;
}

/**
 * A failure that says nothing about an item: the roster could not be fetched just now (no
 * answer, the server busy or failing, the session ended). Such an item is not refused for
 * good; the error escapes `receive`, the live feed leaves its cursor before the item and the
 * next sync opens it again.
 */
export function isTransient(error: unknown): boolean {
  if (error instanceof NetworkError) return true;
  return error instanceof ApiError && (error.status === 0 || error.status === 401 || error.status === 408 || error.status === 429 || error.status >= 500);
}

/** The session of one group, its sender chain distributed before each broadcast. */
export class GroupChannel {
  private constructor(
    readonly vault: Vault,
    readonly groupId: string,
    public session: GroupSession,
  ) {}

  /** Signed identities of items at a seq (§7 step 2), verified once. */
  private readonly refs = new Map<number, MessageRef>();

  /**
   * Runs work that stores this session (a send) where no received item is half-committed: the
   * live feed that opened this channel sets it to `LiveFeed.exclusive`, so the keystore never
   * holds a session ahead of its cursor (a crash would then lose the items between them).
   * Not re-entrant: work run through it must not call it again (`send` already does).
   */
  exclusive: <T>(work: () => Promise<T>) => Promise<T> = (work) => work();

  static async open(vault: Vault, groupId: string): Promise<GroupChannel> {
    const verified = await roster(vault, groupId);
    const prekeys = new Map([...vault.data.prekeys].map(([id, s]) => [id, s.pair]));
    const session = new GroupSession(verified, vault.deviceId, vault.data.signingKey, prekeys, await vault.oneTimePrekeys());
    const saved = vault.data.secrets.get(sessionName(groupId));
    if (saved) session.restoreState(saved);
    return new GroupChannel(vault, groupId, session);
  }

  /**
   * Back to the session the keystore holds, in place (every screen holding this channel sees
   * it): the live feed drops a batch it could not commit, to handle it again from its cursor.
   */
  reload(): void {
    const prekeys = new Map([...this.vault.data.prekeys].map(([id, s]) => [id, s.pair]));
    const session = new GroupSession(this.session.roster, this.vault.deviceId, this.vault.data.signingKey, prekeys, this.vault.oneTime);
    const saved = this.vault.data.secrets.get(sessionName(this.groupId));
    if (saved) session.restoreState(saved);
    this.session = session;
  }

  async refresh(): Promise<void> {
    this.session.updateRoster(await roster(this.vault, this.groupId));
  }

  /**
   * Store the session state (chains, document keys, replay cache) in the keystore. Call it only
   * inside `exclusive`: outside it, it may save ratchet steps of items the cursor is not past.
   */
  async persist(): Promise<void> {
    this.vault.data.secrets.set(sessionName(this.groupId), this.session.exportState());
    await this.vault.save();
  }

  /** The newest signed prekey of each device the server lists for this group (§3.1). */
  async signedPrekeys(call: Call = authedCall): Promise<Map<string, SignedPrekey>> {
    const served = await call<{ device_id: string; prekeys: unknown[] }[]>("GET", `/groups/${this.groupId}/keys`);
    const signed = new Map<string, SignedPrekey>();
    for (const device of served) {
      const records = device.prekeys.map((p) => prekeyFromJson(p));
      if (records.length) signed.set(device.device_id, records.reduce((a, b) => (b.createdTs > a.createdTs ? b : a)));
    }
    return signed;
  }

  /**
   * Who a targeted envelope to these devices is sealed to (§3.3): a one-time prekey claimed
   * for each where the server has one, checked against this device's claim ledger, else the
   * signed prekey; devices that fail the checks come back excluded.
   */
  async recipientsFor(devices: string[], signed: ReadonlyMap<string, SignedPrekey>, nowMs: number, call: Call = authedCall): Promise<Selection> {
    return selectRecipients(this.session.roster, devices, signed, await this.vault.claimOneTime(this.groupId, devices, call), nowMs, this.vault.claimLedger());
  }

  /** Hand the sender chain to roster devices without it (a new chain when rotation is due). */
  private async distributeChain(): Promise<void> {
    const signed = await this.signedPrekeys();
    const now = Date.now();
    const others = this.session.roster.devices().filter((d) => d.deviceId !== this.vault.deviceId && signed.has(d.deviceId)).map((d) => d.deviceId);
    const rotate = this.session.needsRotation(now);
    const raw = this.vault.data.secrets.get(holdersName(this.groupId));
    const given = rotate || !raw ? new Set<string>() : new Set(fromUtf8(raw).split(",").filter(Boolean));
    const missing = others.filter((d) => !given.has(d));
    if (!missing.length && !rotate) return;
    const selection = await this.recipientsFor(missing, signed, now);
    let envelope: Uint8Array;
    if (rotate) envelope = await this.session.rotateSenderChain(selection.recipients, now);
    else envelope = await this.session.encryptTargeted(ContentType.SENDER_KEY, this.session.senderChain!.distribution(), selection.recipients, now);
    await this.persist();
    if (selection.recipients.length) {
      await authed("POST", `/groups/${this.groupId}/messages`, {
        body: { kind: "sender_key", client_msg_id: parseEnvelope(envelope).header.messageId, envelope: b64StdEncode(envelope), recipients: selection.recipients.map((r) => r.deviceId) },
      });
    }
    const holders = [...given, ...selection.recipients.map((r) => r.deviceId)];
    this.vault.data.secrets.set(holdersName(this.groupId), utf8(holders.join(",")));
    await this.vault.save();
  }

  /**
   * Broadcast an alert to the group, or a reply to the item `parent` (its signed reference as
   * a reply_to label, its seq as `parent_seq`, as the Python SDK's `send(parent_seq=…)`); the
   * spent chain index is stored before it leaves (§7.1).
   */
  async sendAlert(text: string, urgent: boolean, parent: FeedItem | null = null): Promise<{ seq: number; ref: MessageRef }> {
    if (parent && !parent.ref) throw new Error(`item ${parent.seq} cannot be answered: it was not verified on this device`);
    if (parent?.ref) this.refs.set(parent.seq, parent.ref);
    const sent = await this.send("alert", utf8(text), { urgent, parentSeq: parent?.seq ?? null });
    return { seq: sent.seq, ref: sent.ref };
  }

  /**
   * Stage the session state in the keystore's secrets; the caller saves it. Receiving stages
   * nothing itself: the live feed stages once per batch, with the cursor that passed it.
   */
  stage(): void {
    this.vault.data.secrets.set(sessionName(this.groupId), this.session.exportState());
  }

  /**
   * Broadcast content as an alert or a chat item (`messaging/client.py: send`): kind, urgency
   * and the parent (a reply, or with `review` a coordinator's review of the case at
   * `parentSeq`) are signed in the labels. Returns the seq and the signed send time.
   */
  send(kind: "alert" | "chat", content: Uint8Array, options: SendOptions = {}): Promise<{ seq: number; sentAtMs: number; ref: MessageRef }> {
    return this.exclusive(() => this.sendNow(kind, content, options));
  }

  private async sendNow(kind: "alert" | "chat", content: Uint8Array, options: SendOptions): Promise<{ seq: number; sentAtMs: number; ref: MessageRef }> {
    const urgent = options.urgent ?? false;
    const parentSeq = options.parentSeq ?? null;
    await this.refresh();
    let parent: MessageRef | null = null;
    if (parentSeq !== null) {
      parent = await this.refAt(parentSeq);
      if (parent === null) throw new Error(`parent_seq ${parentSeq}: no item this device can read`);
    }
    await this.distributeChain();
    const labels = makeLabels({ urgent, replyTo: options.review ? null : parent, reviewOf: options.review ? parent : null });
    const sentAtMs = Date.now();
    const type = kind === "alert" ? ContentType.ALERT : ContentType.MESSAGE;
    const itemKey = this.session.nextBroadcastKey(); // a coordinator's own, to grant later (§9.1)
    const envelope = await this.session.encryptBroadcast(type, content, sentAtMs, undefined, labels);
    await this.persist();
    const posted = await authed<{ seq: number }>("POST", `/groups/${this.groupId}/messages`, {
      body: { kind, client_msg_id: parseEnvelope(envelope).header.messageId, envelope: b64StdEncode(envelope), urgent, ...(parentSeq !== null ? { parent_seq: parentSeq } : {}) },
    });
    const ref = { senderDeviceId: this.vault.deviceId, messageId: parseEnvelope(envelope).header.messageId };
    this.refs.set(posted.seq, ref);
    if (itemKey.length) {
      observeSent(this.vault.data.secrets, this.groupId, posted.seq, kind, parentSeq, envelope, itemKey);
      await this.vault.save();
    }
    return { seq: posted.seq, sentAtMs, ref };
  }

  /**
   * The signed identity of the item at `seq` (`messaging/routing.py: ref_at`): fetched, its
   * envelope signature checked under the sender's roster key; null if this device cannot read it.
   * An item this device verified before (`lookup`: the live feed's kept items) is not fetched.
   */
  async refAt(seq: number, lookup: RefLookup = () => null): Promise<MessageRef | null> {
    const known = this.refs.get(seq) ?? lookup(this.groupId, seq)?.ref;
    if (known) return known;
    let served: { envelope: string; sender_device_id: string | null };
    try {
      served = await authed("GET", `/groups/${this.groupId}/messages/${seq}`);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return null;
      throw error;
    }
    const raw = b64StdDecode(served.envelope);
    if (raw[0] !== 0x43 || raw[1] !== 0x58 || raw[2] !== 0x4d || served.sender_device_id === null) throw new RoutingMismatchError(`parent_seq ${seq}: names a server-written item`);
    const env = parseEnvelope(raw);
    const device = this.session.roster.device(env.header.senderDeviceId);
    if (!device) throw new UntrustedSenderError(`parent_seq ${seq}: its sender device is not in the verified roster`);
    await verifyEnvelope(env, device.signingKey);
    const ref = { senderDeviceId: env.header.senderDeviceId, messageId: env.header.messageId };
    this.refs.set(seq, ref);
    return ref;
  }

  /** §7 step 2 with the parent looked up; returns the parent seq to show (null if unreadable). */
  private async checkedRouting(parsed: StreamItem, lookup: RefLookup): Promise<{ parentSeq: number | null }> {
    const env = parseEnvelope(parsed.envelope);
    checkIdentity(env.header, parsed);
    const target = env.header.labels.replyTo ?? env.header.labels.reviewOf;
    if (target !== null && parsed.parent_seq !== null) {
      const parent = await this.refAt(parsed.parent_seq, lookup);
      if (parent === null) {
        checkRouting(env.header, parsed, target); // not readable here: presence only
        return { parentSeq: null };
      }
      checkRouting(env.header, parsed, parent);
      return { parentSeq: parsed.parent_seq };
    }
    checkRouting(env.header, parsed, null);
    return { parentSeq: parsed.parent_seq };
  }

  /**
   * Whether a broadcast this device holds no chain for was sealed at a log head where this
   * device was not certified (so no sender could have given it the key, §9): "linked" when
   * another device of this member was certified there (a HISTORY_TRANSFER can bring it),
   * else "joined".
   */
  private sentBefore(envelope: Uint8Array): "joined" | "linked" | null {
    try {
      const h = parseEnvelope(envelope).header;
      const roster = this.session.roster;
      if (deviceAt(roster, this.vault.deviceId, h.epochId) !== null) return null;
      const mine = [...(roster.members.get(this.session.memberId)?.devices.keys() ?? [])];
      return mine.some((d) => deviceAt(roster, d, h.epochId) !== null) ? "linked" : "joined";
    } catch {
      return null; // a head this device has not verified: not a policy question
    }
  }

  /** A pushed receipt for one of this device's items, checked (§7.2); null if it fails. */
  private async receiptFor(envelope: Uint8Array, lookup: RefLookup): Promise<ReceiptUpdate | null> {
    try {
      const event = JSON.parse(fromUtf8(envelope)) as Record<string, unknown>;
      const seq = Number(event.seq);
      const mine = lookup(this.groupId, seq);
      // Not about an item this device sent (a receipt by another device of this user, or
      // this device's own echoed back by a server before the delivery rule of
      // docs/REALTIME.md): nothing to check, nothing it could change.
      if (!mine?.mine || !mine.ref) return null;
      await checkReceipt(event, this.groupId, this.session.roster, mine.ref);
      const status = event.status === "read" ? "read" : "delivered";
      return { groupId: this.groupId, seq, deviceId: String(event.device_id), userId: typeof event.user_id === "string" ? event.user_id : null, status, ts: Number(event.ts) };
    } catch {
      return null; // a forged or stray receipt changes nothing
    }
  }

  /**
   * Open one stream item (§7): shape, routing copy, roster, signature, replay, decrypt. Key
   * items install silently (null); anything that fails comes back `refused`, never as text.
   */
  async receive(raw: unknown, lookup: RefLookup = () => null): Promise<Opened> {
    let parsed;
    try {
      parsed = parseStreamItem(raw);
    } catch (error) {
      const r = raw as { seq?: unknown; group_id?: unknown };
      return { item: refusedItem(Number(r.seq) || 0, String(r.group_id), error), receipt: null, incoming: null };
    }
    const meta = { group_id: parsed.group_id, seq: parsed.seq, kind: parsed.kind, sender_user_id: parsed.sender_user_id, sender_device_id: parsed.sender_device_id, urgent: parsed.urgent, parent_seq: parsed.parent_seq, created_at: parsed.created_at };
    if (parsed.kind === "prenotification_event") return { item: null, receipt: null, incoming: serverEvent(meta, parsed.envelope) };
    if (parsed.kind === "receipt") {
      const update = await this.receiptFor(parsed.envelope, lookup);
      return update ? { item: null, receipt: null, incoming: null, update } : { item: null, receipt: null, incoming: null };
    }
    if (parsed.kind === "membership") {
      await this.refresh().catch(() => undefined);
      return { item: null, receipt: null, incoming: null };
    }
    const base = { seq: parsed.seq, groupId: parsed.group_id, urgent: parsed.urgent, senderUserId: parsed.sender_user_id, createdAt: parsed.created_at, mine: parsed.sender_device_id === this.vault.deviceId };
    if (base.mine) return { item: null, receipt: null, incoming: null }; // own items are shown (and archived) when sent
    const kept = INBOX_KINDS.has(parsed.kind);
    const newest = newestOf(this.vault).get(this.groupId);
    if (newest && newest.headSeq > this.session.roster.headSeq) this.session.updateRoster(newest);
    try {
      const { parentSeq } = await this.checkedRouting(parsed, lookup);
      const env = parseEnvelope(parsed.envelope);
      let received;
      try {
        received = await this.session.decrypt(parsed.envelope);
      } catch (error) {
        if (!(error instanceof CryptoError) || !/epoch|roster/i.test(error.message)) throw error;
        await this.refresh();
        received = await this.session.decrypt(parsed.envelope);
      }
      if (received.senderMemberId !== parsed.sender_user_id) throw new Error("the server's sender does not match the signed sender");
      // Not stored here: the live feed stages the session with the cursor that passes this item.
      this.refs.set(parsed.seq, { senderDeviceId: env.header.senderDeviceId, messageId: env.header.messageId });
      if (received.contentType === ContentType.HISTORY_GRANT) {
        keepGrant(this.vault.data.secrets, this.groupId, env.header.messageId, received.content); // saved with the batch
        return { item: null, receipt: null, incoming: null, granted: true };
      }
      if (received.contentType === ContentType.HISTORY_TRANSFER) {
        // Chains and document keys are installed; the archive is this member's own device's
        // already-decrypted items (saved with the batch).
        const archive = parseTransferArchive<FeedItem>(this.groupId, historyBundleFromBytes(received.content).archive);
        mergeRecords(this.vault.data.secrets, this.groupId, archive.records);
        const restored = archive.feed.filter((i) => i.refused === null && !i.before).map((i) => ({ ...i, mine: false, receipts: {} }));
        return { item: null, receipt: null, incoming: null, granted: archive.records.length > 0, restored };
      }
      observe(this.vault.data.secrets, this.session.roster, this.session.memberId, meta, parsed.envelope, received.itemKey);
      const incoming = kept ? makeIncoming({ ...meta, parent_seq: parentSeq, verified: true, content: received.content, review: env.header.labels.reviewOf !== null, sent_at: pyIsoFromMs(env.header.ts) }) : null;
      if (parsed.kind !== "alert" && parsed.kind !== "chat") return { item: null, receipt: null, incoming };
      const receipt = await receiptBody(this.vault.data.signingKey, { groupId: parsed.group_id, seq: parsed.seq, item: { senderDeviceId: env.header.senderDeviceId, messageId: env.header.messageId }, deviceId: this.vault.deviceId, status: "delivered", ts: Date.now() });
      return { item: { ...base, ...contentLine(received.content), refused: null, parentSeq, ref: { senderDeviceId: env.header.senderDeviceId, messageId: env.header.messageId } }, receipt, incoming };
    } catch (error) {
      if (isTransient(error)) throw error; // retried on the next sync, not recorded as refused
      const before = error instanceof MissingChainError ? this.sentBefore(parsed.envelope) : null;
      if (before) return { item: { ...base, text: null, refused: null, before }, receipt: null, incoming: null };
      const incoming = kept ? makeIncoming({ ...meta, verified: false, error: reason(error) }) : null;
      return { item: { ...base, text: null, refused: reason(error) }, receipt: null, incoming };
    }
  }
}

/** A server-written item (a pre-notification status event): its JSON, not end-to-end protected. */
function serverEvent(meta: Pick<Incoming, "group_id" | "seq" | "kind"> & Partial<Incoming>, raw: Uint8Array): Incoming {
  try {
    const event = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(raw)) as unknown;
    return makeIncoming({ ...meta, event: typeof event === "object" && event !== null && !Array.isArray(event) ? (event as Record<string, unknown>) : { value: event } });
  } catch {
    return makeIncoming({ ...meta, error: "malformed server event" });
  }
}

/** Signed `read` receipts for items now shown on screen (PROTOCOL §7.2). */
export async function sendRead(vault: Vault, shown: FeedItem[]): Promise<void> {
  const receipts = [];
  for (const item of shown) {
    if (!item.ref || item.mine || item.read || item.refused !== null) continue;
    receipts.push(await receiptBody(vault.data.signingKey, { groupId: item.groupId, seq: item.seq, item: item.ref, deviceId: vault.deviceId, status: "read", ts: Date.now() }));
  }
  if (receipts.length) await authed("POST", "/receipts", { body: { receipts } });
}

function reason(error: unknown): string {
  if (error instanceof CryptoError) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

function refusedItem(seq: number, groupId: string, error: unknown): FeedItem {
  return { seq, groupId, urgent: false, senderUserId: null, createdAt: "", text: null, refused: reason(error), mine: false };
}
