/**
 * Verify the membership log from the pinned root and derive the roster (PROTOCOL.md §4.3–4.8),
 * as `crypto/roster.py`: rollback and fork against the persisted head, fork proofs, the
 * own-key rule and the epoch grace window. Messages are the reference's, byte for byte.
 */

import { b64d, b64e, type Bytes, equal, toHex, uuidBytes } from "./bytes";
import { enc, label } from "./encoding";
import {
  CryptoError,
  DeviceKeyMismatchError,
  EpochMismatchError,
  ForkError,
  ForkProofError,
  InjectedDeviceError,
  InjectedMemberError,
  LogChainError,
  LogError,
  LogGapError,
  LogOrderError,
  LogRollbackError,
  LogRootError,
  StaleEpochError,
  UnauthorisedEntryError,
  UnsupportedVersionError,
} from "./errors";
import { COORDINATOR_OPS, LOG_VERSION, LogEntry, pyValue, ZERO_HASH } from "./log";
import { sha256, verifyEd25519 } from "./primitives";

export interface Device {
  readonly deviceId: string;
  readonly memberId: string;
  readonly signingKey: Bytes;
}

export interface Member {
  readonly memberId: string;
  readonly role: string;
  readonly memberKey: Bytes;
  readonly devices: ReadonlyMap<string, Device>;
  readonly historyScopes: ReadonlySet<string>;
}

const byId = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Hash members, roles, keys and devices in id order (label `roster`). */
export function rosterDigest(members: ReadonlyMap<string, Member>): Bytes {
  const parts: Bytes[] = [];
  for (const mid of [...members.keys()].sort(byId)) {
    const m = members.get(mid)!;
    const devs = [...m.devices.keys()].sort(byId).map((d) => enc(uuidBytes(d), m.devices.get(d)!.signingKey));
    parts.push(enc(uuidBytes(mid), m.role, m.memberKey, ...devs));
  }
  return sha256(label("roster"), enc(...parts));
}

/** The verified state at the log head; everything a client trusts comes from here. */
export class Roster {
  private epochs: Map<string, number> | null = null;
  private deviceIndex: Map<string, Device> | null = null;
  constructor(
    readonly groupId: string,
    readonly rootKey: Bytes,
    readonly members: ReadonlyMap<string, Member>,
    readonly entries: readonly LogEntry[],
    readonly removalSeqs: readonly number[],
  ) {}

  get headSeq(): number {
    return this.entries.length - 1;
  }
  get epochId(): Bytes {
    return this.entries.at(-1)!.entryHash();
  }
  /** Seq of the entry whose hash is `epochId`, or null if this log never had that head. */
  epochSeq(epochId: Uint8Array): number | null {
    this.epochs ??= new Map(this.entries.map((e) => [e.hashHex(), e.seq]));
    return this.epochs.get(toHex(epochId)) ?? null;
  }
  device(deviceId: string): Device | null {
    if (!this.deviceIndex) {
      this.deviceIndex = new Map();
      for (const m of this.members.values()) for (const [d, dev] of m.devices) this.deviceIndex.set(d, dev);
    }
    return this.deviceIndex.get(deviceId) ?? null;
  }
  devices(): Device[] {
    return [...this.members.values()].flatMap((m) => [...m.devices.values()]).sort((a, b) => byId(a.deviceId, b.deviceId));
  }
  removedBetween(afterSeq: number, uptoSeq: number): boolean {
    return this.removalSeqs.some((s) => afterSeq < s && s <= uptoSeq);
  }
  digest(): Bytes {
    return rosterDigest(this.members);
  }
}

class State {
  members = new Map<string, Member>();
  retired = new Set<string>();
  live = new Set<string>();
  removals: number[] = [];
  private coordinators: Set<string> | null = null;
  constructor(readonly rootKey: Bytes) {}

  copy(): State {
    const twin = new State(this.rootKey);
    twin.members = new Map(this.members);
    twin.retired = new Set(this.retired);
    twin.live = new Set(this.live);
    twin.removals = [...this.removals];
    return twin;
  }
  coordinatorKeys(): Set<string> {
    this.coordinators ??= new Set([toHex(this.rootKey), ...[...this.members.values()].filter((m) => m.role === "coordinator").map((m) => toHex(m.memberKey))]);
    return this.coordinators;
  }
  coordinatorsChanged(): void {
    this.coordinators = null;
  }
  member(entry: LogEntry): Member {
    const mid = entry.body.member_id!;
    const found = this.members.get(mid);
    if (!found) throw new LogError(`seq ${entry.seq}: ${entry.op} names unknown member ${mid}`);
    return found;
  }
  replace(old: Member, changes: Partial<Member>): void {
    this.members.set(old.memberId, { ...old, ...changes });
  }
}

function unauthorised(entry: LogEntry, why: string): UnauthorisedEntryError {
  const msg = `seq ${entry.seq} (${entry.op}): ${why}`;
  if (entry.op === "add_member") return new InjectedMemberError("injected member rejected: " + msg);
  if (entry.op === "add_device") return new InjectedDeviceError("injected device rejected: " + msg);
  return new UnauthorisedEntryError(msg);
}

function authorise(state: State, entry: LogEntry): void {
  if (entry.op === "genesis") throw unauthorised(entry, "a second genesis entry");
  const coordinators = state.coordinatorKeys();
  const signer = toHex(entry.signer);
  if (COORDINATOR_OPS.has(entry.op)) {
    if (!coordinators.has(signer)) throw unauthorised(entry, "signer is not a coordinator key");
    return;
  }
  const member = state.members.get(entry.body.member_id!);
  if (!member) throw unauthorised(entry, "names a member who is not in the roster");
  const allowed = entry.op === "revoke_device" ? signer === toHex(member.memberKey) || coordinators.has(signer) : signer === toHex(member.memberKey);
  if (!allowed) throw unauthorised(entry, "signer is not the member's key");
}

function changesCoordinators(state: State, entry: LogEntry): boolean {
  const { op, body } = entry;
  if (op === "add_member") return body.role === "coordinator";
  if (!["remove_member", "set_role", "rotate_member_key"].includes(op)) return false;
  const member = state.members.get(body.member_id!);
  return !member || member.role === "coordinator" || body.role === "coordinator";
}

function apply(state: State, entry: LogEntry): void {
  const { op, body, seq } = entry;
  if (changesCoordinators(state, entry)) state.coordinatorsChanged();
  if (op === "add_member") {
    const mid = body.member_id!;
    if (state.members.has(mid)) throw new LogError(`seq ${seq}: member ${mid} is already in the group`);
    state.members.set(mid, { memberId: mid, role: body.role!, memberKey: b64d(body.member_key, 32), devices: new Map(), historyScopes: new Set() });
  } else if (op === "remove_member") {
    const member = state.member(entry);
    for (const d of member.devices.keys()) {
      state.retired.add(d);
      state.live.delete(d);
    }
    state.members.delete(member.memberId);
    state.removals.push(seq);
  } else if (op === "set_role") {
    state.replace(state.member(entry), { role: body.role! });
  } else if (op === "grant_history") {
    const member = state.member(entry);
    state.replace(member, { historyScopes: new Set([...member.historyScopes, body.scope!]) });
  } else if (op === "checkpoint") {
    if (!equal(b64d(body.roster_hash, 32), rosterDigest(state.members))) throw new LogError(`seq ${seq}: checkpoint does not match the computed roster`);
  } else if (op === "add_device") {
    const member = state.member(entry);
    const did = body.device_id!;
    if (state.retired.has(did) || state.live.has(did)) throw new InjectedDeviceError(`seq ${seq}: device ${did} was already used in this group`);
    state.live.add(did);
    const devices = new Map(member.devices);
    devices.set(did, { deviceId: did, memberId: member.memberId, signingKey: b64d(body.device_key, 32) });
    state.replace(member, { devices });
  } else if (op === "revoke_device") {
    const member = state.member(entry);
    const did = body.device_id!;
    if (!member.devices.has(did)) throw new LogError(`seq ${seq}: device ${did} is not a device of member ${member.memberId}`);
    state.retired.add(did);
    state.live.delete(did);
    const devices = new Map(member.devices);
    devices.delete(did);
    state.replace(member, { devices });
    state.removals.push(seq);
  } else if (op === "rotate_member_key") {
    state.replace(state.member(entry), { memberKey: b64d(body.member_key, 32) });
  }
}

async function checkPosition(entries: readonly LogEntry[], idx: number): Promise<never> {
  const entry = entries[idx]!;
  if (entry.seq > idx) {
    if (entries.slice(idx + 1).some((e) => e.seq === idx)) throw new LogOrderError(`entry seq ${entry.seq} arrived before seq ${idx}: log reordered`);
    throw new LogGapError(`entry seq ${idx} is missing (next is ${entry.seq}): an entry was dropped`);
  }
  const earlier = entries[entry.seq]!;
  if (earlier.hashHex() === entry.hashHex()) throw new LogOrderError(`entry seq ${entry.seq} appears twice`);
  if (!(await verifyEd25519(entry.signer, entry.sig, entry.signedBytes()))) throw new LogOrderError(`entry at position ${idx} carries stale seq ${entry.seq}`);
  throw new ForkError(`two different signed entries claim seq ${entry.seq}: the log is forked`, entry.seq);
}

/** Applies entries one at a time from the pinned root (§4.4 steps 1–7). */
class Verifier {
  state: State;
  entries: LogEntry[] = [];
  prevHash: Bytes = ZERO_HASH;
  prevTs = 0;
  constructor(
    readonly rootKey: Bytes,
    readonly groupId: string,
  ) {
    this.state = new State(rootKey);
  }
  copy(): Verifier {
    const twin = new Verifier(this.rootKey, this.groupId);
    twin.state = this.state.copy();
    twin.entries = [...this.entries];
    twin.prevHash = this.prevHash;
    twin.prevTs = this.prevTs;
    return twin;
  }
  /** `signatureOk`: null skips step 5 (root-attested prefix only). */
  async step(entry: LogEntry, signatureOk: Promise<boolean> | null): Promise<void> {
    const idx = this.entries.length;
    if (entry.v !== LOG_VERSION) throw new UnsupportedVersionError(`log entry ${idx} has version ${entry.v}`);
    if (entry.groupId !== this.groupId) throw new LogError(`entry seq ${entry.seq} belongs to group ${entry.groupId}`);
    if (entry.seq !== idx) throw new LogOrderError(`entry seq ${entry.seq} is not the next seq ${idx}`);
    if (!equal(entry.prev, this.prevHash)) throw new LogChainError(`entry seq ${idx}: prev does not match the previous entry's hash`);
    if (idx === 0) {
      if (entry.op !== "genesis" || !equal(entry.signer, this.rootKey)) throw new LogRootError("genesis is not signed by the pinned coordinator key");
      if (!equal(b64d(entry.body.root_key, 32), this.rootKey)) throw new LogRootError("genesis names a different root key");
    } else {
      authorise(this.state, entry);
    }
    if (signatureOk !== null && !(await signatureOk)) {
      if (idx === 0) throw new LogRootError("genesis signature does not verify");
      throw unauthorised(entry, "signature does not verify");
    }
    if (entry.ts < this.prevTs) throw new LogOrderError(`entry seq ${idx}: timestamp goes backwards`);
    if (idx) apply(this.state, entry);
    this.entries.push(entry);
    this.prevHash = entry.entryHash();
    this.prevTs = entry.ts;
  }
  roster(): Roster {
    return new Roster(this.groupId, this.rootKey, new Map(this.state.members), [...this.entries], [...this.state.removals]);
  }
}

const verifyEntry = (e: LogEntry) => verifyEd25519(e.signer, e.sig, e.signedBytes());

export const CHECKPOINT_INTERVAL = 1000;
/** Signature checks kept in flight ahead of the entry being applied. */
export const VERIFY_AHEAD = 1024;

/** Index of the latest `checkpoint` signed by the pinned root key, or 0 if there is none. */
export function rootAttestedPrefix(rootKey: Uint8Array, entries: readonly LogEntry[]): number {
  for (let idx = entries.length - 1; idx > 0; idx--) {
    const e = entries[idx]!;
    if (e.op === "checkpoint" && equal(e.signer, rootKey)) return idx;
  }
  return 0;
}

export function checkpointDue(rootKey: Uint8Array, entries: readonly LogEntry[], interval = CHECKPOINT_INTERVAL): boolean {
  return entries.length - rootAttestedPrefix(rootKey, entries) >= interval;
}

/**
 * Verify every link from the pinned root and return the roster at the head. Signatures before
 * the latest root-signed checkpoint are not checked (§4.4 step 5). `knownHead` is the tail this
 * device verified before: a shorter log is a rollback, a different entry at a known seq a fork.
 *
 * The Ed25519 checks run ahead of the walk in a window of `VERIFY_AHEAD` entries (WebCrypto
 * runs them concurrently; thousands started at once queue up and cost more per check in
 * Chromium); each result is awaited in entry order, so the refusal is the one the sequential
 * rules give.
 */
export async function verifyLog(rootKey: Uint8Array, groupId: string, entries: readonly LogEntry[], knownHead: readonly LogEntry[] | null = null): Promise<Roster> {
  if (!entries.length) throw new LogRootError("the log is empty");
  const verifier = new Verifier(rootKey as Bytes, groupId);
  const attested = rootAttestedPrefix(rootKey, entries);
  const checks: (Promise<boolean> | null)[] = [];
  const startUpTo = (end: number) => {
    for (let i = checks.length; i < Math.min(end, entries.length); i++) {
      const check = i >= attested ? verifyEntry(entries[i]!) : null;
      check?.catch(() => undefined);
      checks.push(check);
    }
  };
  for (const [idx, entry] of entries.entries()) {
    if (entry.seq !== idx) await checkPosition(entries, idx);
    startUpTo(idx + VERIFY_AHEAD);
    await verifier.step(entry, checks[idx]!);
    checks[idx] = null;
  }
  const roster = verifier.roster();
  if (knownHead && knownHead.length) checkKnownHead(roster, knownHead);
  return roster;
}

/** A log that drops or rewrites entries this device already verified is refused (§4.6). */
export function checkKnownHead(roster: Roster, known: readonly LogEntry[]): void {
  const gid = roster.groupId;
  for (const mine of known) {
    if (mine.seq > roster.headSeq) break;
    const theirs = roster.entries[mine.seq]!;
    if (theirs.hashHex() === mine.hashHex()) continue;
    const proof = equal(theirs.prev, mine.prev) ? forkProof(roster.entries.slice(0, mine.seq), mine, theirs) : null;
    const where = proof ? `seq ${mine.seq}` : `or before seq ${mine.seq}`;
    throw new ForkError(
      `group ${gid}: fork detected at ${where}: the server's log holds entry ${theirs.hashHex().slice(0, 16)} where this device verified ${mine.hashHex().slice(0, 16)}`,
      mine.seq,
      proof,
    );
  }
  const head = known.at(-1)!;
  if (head.seq > roster.headSeq) {
    throw new LogRollbackError(
      `group ${gid}: rollback refused: the server's log ends at seq ${roster.headSeq}, but this device already verified seq ${head.seq} (epoch ${head.hashHex().slice(0, 16)})`,
    );
  }
}

export const FORK_PROOF_VERSION = 2;
const PROOF_FIELDS = ["entries", "group_id", "prefix", "seq", "v"];

export function forkProof(prefix: readonly LogEntry[], first: LogEntry, second: LogEntry): Record<string, unknown> {
  return { v: FORK_PROOF_VERSION, group_id: first.groupId, seq: first.seq, prefix: prefix.map((e) => e.toJson()), entries: [first.toJson(), second.toJson()] };
}

/** Check a fork proof against the group's pinned root; return the two forking entries (§4.7). */
export async function verifyForkProof(rootKey: Uint8Array, groupId: string, proof: unknown): Promise<[LogEntry, LogEntry]> {
  const obj = proof as Record<string, unknown>;
  if (typeof proof !== "object" || proof === null || Array.isArray(proof) || Object.keys(obj).length !== 5 || !PROOF_FIELDS.every((f) => Object.hasOwn(obj, f))) {
    throw new ForkProofError(`fork proof: fields must be exactly [${PROOF_FIELDS.map((f) => `'${f}'`).join(", ")}]`);
  }
  if (obj.v !== FORK_PROOF_VERSION) throw new ForkProofError(`fork proof: version ${pyValue(obj.v)} is not supported`);
  const { prefix: prefixJson, entries: pair } = obj;
  if (!Array.isArray(prefixJson) || !Array.isArray(pair) || pair.length !== 2) throw new ForkProofError("fork proof: prefix must be a list and entries a pair");
  let prefix: LogEntry[];
  let first: LogEntry;
  let second: LogEntry;
  try {
    uuidBytes(obj.group_id, "fork proof group_id");
    if (obj.group_id !== groupId) throw new ForkProofError(`fork proof: it is about another group, not ${groupId}`);
    prefix = prefixJson.map((e) => LogEntry.fromJson(e));
    first = LogEntry.fromJson(pair[0]);
    second = LogEntry.fromJson(pair[1]);
  } catch (e) {
    if (e instanceof ForkProofError) throw e;
    if (e instanceof CryptoError) throw new ForkProofError(`fork proof: ${e.message}`);
    throw e;
  }
  if (obj.seq !== prefix.length || first.seq !== prefix.length || second.seq !== prefix.length) throw new ForkProofError("fork proof: seq must equal the prefix length for both entries");
  const verifier = new Verifier(rootKey as Bytes, groupId);
  try {
    for (const e of prefix) await verifier.step(e, verifyEntry(e));
  } catch (e) {
    if (e instanceof CryptoError) throw new ForkProofError(`fork proof: the prefix does not verify: ${e.message}`);
    throw e;
  }
  if (first.hashHex() === second.hashHex()) throw new ForkProofError(`fork proof: both entries at seq ${first.seq} are the same entry`);
  for (const [n, e] of [first, second].entries()) {
    try {
      await verifier.copy().step(e, verifyEntry(e));
    } catch (err) {
      if (err instanceof CryptoError) throw new ForkProofError(`fork proof: entry ${n + 1} at seq ${e.seq} does not extend the verified prefix: ${err.message}`);
      throw err;
    }
  }
  return [first, second];
}

/** Raise ForkError with a proof if two verified views disagree at one seq. */
export function detectFork(a: Roster, b: Roster): void {
  if (a.groupId !== b.groupId || !equal(a.rootKey, b.rootKey)) throw new LogError("the two views belong to different groups");
  for (let seq = 0; seq < Math.min(a.entries.length, b.entries.length); seq++) {
    const ea = a.entries[seq]!;
    const eb = b.entries[seq]!;
    if (ea.hashHex() !== eb.hashHex()) throw new ForkError(`views disagree at seq ${seq}: the log is forked`, seq, forkProof(a.entries.slice(0, seq), ea, eb));
  }
}

export const EPOCH_GRACE_ENTRIES = 32;

/** The seq of the head an envelope names, if a receiver may accept it (§4.8). */
export function envelopeEpochSeq(roster: Roster, epochId: Uint8Array): number {
  const seq = roster.epochSeq(epochId);
  const head = roster.headSeq;
  if (seq === null) {
    throw new EpochMismatchError(`envelope names roster head ${toHex(epochId).slice(0, 16)}, which is not in this device's verified log (head seq ${head}); refresh the log`);
  }
  if (head - seq > EPOCH_GRACE_ENTRIES) {
    throw new StaleEpochError(`envelope names roster head seq ${seq}, ${head - seq} entries behind the verified head seq ${head} (grace window ${EPOCH_GRACE_ENTRIES}): its sender's view is stale`);
  }
  const removal = roster.removalSeqs.find((r) => seq < r && r <= head);
  if (removal !== undefined) throw new StaleEpochError(`envelope names roster head seq ${seq}, before the removal at seq ${removal}: its sender has not seen the removal`);
  return seq;
}

/** Refuse a log that certifies, for this device's id, a key other than this device's (§3.7). */
export function checkOwnDevice(roster: Roster, deviceId: string, signingKey: Uint8Array): void {
  for (const entry of roster.entries) {
    if (entry.op !== "add_device" || entry.body.device_id !== deviceId) continue;
    const certified = b64d(entry.body.device_key, 32);
    if (!equal(certified, signingKey)) {
      throw new DeviceKeyMismatchError(
        `group ${roster.groupId}: log entry seq ${entry.seq} certifies key ${b64e(certified)} for this device (${deviceId}), but its key is ${b64e(signingKey)}: refusing to act on this log`,
      );
    }
  }
}
