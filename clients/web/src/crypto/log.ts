/** Signed, hash-chained membership log entries and a writer for them (PROTOCOL.md §4.1–4.2). */

import { b64d, b64e, type Bytes, uuidBytes } from "./bytes";
import { pyRepr } from "./canonical";
import { enc, sigInput } from "./encoding";
import { MalformedError, UnsupportedVersionError } from "./errors";
import { sha256, sign, type SigningKey } from "./primitives";

export const LOG_VERSION = 2;
export const ZERO_HASH: Bytes = new Uint8Array(32);
export const ROLES = ["coordinator", "member"] as const;
export const HISTORY_SCOPES = ["library", "cases", "prenotifications"] as const;
export const COORDINATOR_OPS: ReadonlySet<string> = new Set(["genesis", "add_member", "remove_member", "set_role", "grant_history", "checkpoint"]);

type Kind = "uuid" | "key" | "hash" | "role" | "scope";
/** Field order here is the canonical body order. */
export const BODY_SCHEMAS: Record<string, ReadonlyArray<readonly [string, Kind]>> = {
  genesis: [["root_key", "key"]],
  add_member: [["member_id", "uuid"], ["member_key", "key"], ["role", "role"]],
  remove_member: [["member_id", "uuid"]],
  set_role: [["member_id", "uuid"], ["role", "role"]],
  grant_history: [["member_id", "uuid"], ["scope", "scope"]],
  checkpoint: [["roster_hash", "hash"]],
  add_device: [["member_id", "uuid"], ["device_id", "uuid"], ["device_key", "key"]],
  revoke_device: [["member_id", "uuid"], ["device_id", "uuid"]],
  rotate_member_key: [["member_id", "uuid"], ["member_key", "key"]],
};
const ENTRY_FIELDS = ["body", "group_id", "op", "prev", "seq", "sig", "signer", "ts", "v"];

/** Python's repr of a JSON scalar, for messages quoting a value as the reference does. */
export function pyValue(v: unknown): string {
  if (typeof v === "string") return pyRepr(v);
  if (v === null || v === undefined) return "None";
  if (v === true) return "True";
  if (v === false) return "False";
  return String(v);
}
const pyList = (items: readonly string[]) => `[${items.map(pyRepr).join(", ")}]`;
const pyTuple = (items: readonly string[]) => `(${items.map(pyRepr).join(", ")})`;

function fieldRaw(name: string, kind: Kind, value: unknown): Uint8Array {
  if (typeof value !== "string") throw new MalformedError(`body.${name}: expected a string`);
  if (kind === "uuid") return uuidBytes(value, `body.${name}`);
  if (kind === "key" || kind === "hash") return b64d(value, 32, `body.${name}`);
  const allowed: readonly string[] = kind === "role" ? ROLES : HISTORY_SCOPES;
  if (!allowed.includes(value)) throw new MalformedError(`body.${name}: ${pyRepr(value)} is not one of ${pyTuple(allowed)}`);
  return new TextEncoder().encode(value);
}

/** Canonically encode an op's body, refusing unknown ops and missing or extra fields. */
export function bodyBytes(op: string, body: Record<string, unknown>): Bytes {
  const schema = Object.hasOwn(BODY_SCHEMAS, op) ? BODY_SCHEMAS[op] : undefined;
  if (!schema) throw new MalformedError(`unknown log op ${pyRepr(op)}`);
  const names = schema.map(([n]) => n);
  const keys = Object.keys(body);
  if (keys.length !== names.length || !names.every((n) => Object.hasOwn(body, n))) {
    throw new MalformedError(`${op}: body fields must be exactly ${pyList(names)}`);
  }
  return enc(...schema.map(([n, kind]) => fieldRaw(n, kind, body[n])));
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isInt = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v);

/** One signed membership change; `prev` chains it to the entry before. */
export class LogEntry {
  private signedCache: Bytes | null = null;
  private hashCache: Bytes | null = null;
  private hexCache: string | null = null;

  constructor(
    readonly v: number,
    readonly groupId: string,
    readonly seq: number,
    readonly prev: Bytes,
    readonly ts: number,
    readonly op: string,
    readonly body: Readonly<Record<string, string>>,
    readonly signer: Bytes,
    readonly sig: Bytes,
    private readonly rawBody: Bytes | null = null,
  ) {}

  /** The exact bytes the signer signed (label `log-entry`), computed once. */
  signedBytes(): Bytes {
    this.signedCache ??= sigInput("log-entry", this.v, uuidBytes(this.groupId), this.seq, this.prev, this.ts, this.op, this.rawBody ?? bodyBytes(this.op, this.body), this.signer);
    return this.signedCache;
  }

  /** SHA-256 of signed bytes and signature: the next `prev`; at the head, the epoch id. */
  entryHash(): Bytes {
    this.hashCache ??= sha256(this.signedBytes(), this.sig);
    return this.hashCache;
  }

  /** The entry hash as hex (for maps and messages). */
  hashHex(): string {
    this.hexCache ??= Array.from(this.entryHash(), (b) => b.toString(16).padStart(2, "0")).join("");
    return this.hexCache;
  }

  toJson(): Record<string, unknown> {
    return { v: this.v, group_id: this.groupId, seq: this.seq, prev: b64e(this.prev), ts: this.ts, op: this.op, body: { ...this.body }, signer: b64e(this.signer), sig: b64e(this.sig) };
  }

  /** Parse an entry strictly; an unknown version or malformed field is refused. */
  static fromJson(obj: unknown): LogEntry {
    if (!isObject(obj) || Object.keys(obj).length !== ENTRY_FIELDS.length || !ENTRY_FIELDS.every((f) => Object.hasOwn(obj, f))) {
      throw new MalformedError("log entry: fields must be exactly " + ENTRY_FIELDS.join(", "));
    }
    if (obj.v !== LOG_VERSION) throw new UnsupportedVersionError(`log entry version ${pyValue(obj.v)} is not supported`);
    for (const name of ["seq", "ts"]) {
      const val = obj[name];
      if (!isInt(val) || val < 0) throw new MalformedError(`log entry: ${name} must be a non-negative integer`);
    }
    const { op, body } = obj;
    if (typeof op !== "string" || !isObject(body)) throw new MalformedError("log entry: op must be a string and body an object");
    const raw = bodyBytes(op, body);
    return new LogEntry(
      LOG_VERSION,
      parseGroup(obj.group_id),
      obj.seq as number,
      b64d(obj.prev, 32, "log entry prev"),
      obj.ts as number,
      op,
      Object.fromEntries(Object.entries(body).map(([k, v]) => [k, String(v)])),
      b64d(obj.signer, 32, "log entry signer"),
      b64d(obj.sig, 64, "log entry sig"),
      raw,
    );
  }
}

function parseGroup(text: unknown): string {
  uuidBytes(text, "log entry group_id");
  return text as string;
}

/** Build and sign one entry; the caller supplies its position in the chain. */
export async function signEntry(key: SigningKey, e: { groupId: string; seq: number; prev: Uint8Array; ts: number; op: string; body: Record<string, string> }): Promise<LogEntry> {
  const unsigned = new LogEntry(LOG_VERSION, e.groupId, e.seq, e.prev as Bytes, e.ts, e.op, { ...e.body }, key.publicKey, new Uint8Array());
  const sig = await sign(key, unsigned.signedBytes());
  return new LogEntry(LOG_VERSION, e.groupId, e.seq, e.prev as Bytes, e.ts, e.op, { ...e.body }, key.publicKey, sig);
}

/** Appends correctly chained entries (no verification): for tests, benchmarks and coordinators. */
export class LogWriter {
  readonly entries: LogEntry[];
  constructor(
    readonly groupId: string,
    entries: LogEntry[] = [],
  ) {
    this.entries = [...entries];
  }
  async append(key: SigningKey, op: string, body: Record<string, string>, ts: number): Promise<LogEntry> {
    const head = this.entries.at(-1);
    const entry = await signEntry(key, { groupId: this.groupId, seq: head ? head.seq + 1 : 0, prev: head ? head.entryHash() : ZERO_HASH, ts, op, body });
    this.entries.push(entry);
    return entry;
  }
  genesis(root: SigningKey, ts: number) {
    return this.append(root, "genesis", { root_key: b64e(root.publicKey) }, ts);
  }
  addMember(signer: SigningKey, memberId: string, memberKey: Uint8Array, role: string, ts: number) {
    return this.append(signer, "add_member", { member_id: memberId, member_key: b64e(memberKey), role }, ts);
  }
  addDevice(memberKey: SigningKey, memberId: string, deviceId: string, deviceKey: Uint8Array, ts: number) {
    return this.append(memberKey, "add_device", { member_id: memberId, device_id: deviceId, device_key: b64e(deviceKey) }, ts);
  }
  grantHistory(signer: SigningKey, memberId: string, scope: string, ts: number) {
    return this.append(signer, "grant_history", { member_id: memberId, scope }, ts);
  }
  checkpoint(signer: SigningKey, rosterHash: Uint8Array, ts: number) {
    return this.append(signer, "checkpoint", { roster_hash: b64e(rosterHash) }, ts);
  }
}
