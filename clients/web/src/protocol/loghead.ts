/**
 * What this device remembers of each group's log, inside the keystore's secrets (PROTOCOL.md
 * §4.6–4.7), under the Python SDK's names and JSON (`groups/loghead.py`), so a keystore moved
 * between the CLI and the browser keeps its persisted head and its freeze.
 */

import { fromUtf8, GroupFrozenError, LogEntry, type Roster, utf8 } from "../crypto";

export const TAIL = 32;
const tailName = (groupId: string) => `log-tail:${groupId}`;
const forkName = (groupId: string) => `log-fork:${groupId}`;

/** The keystore's secrets (`KeystoreData.secrets`). */
export type Secrets = Map<string, Uint8Array>;

const json = (value: unknown) => utf8(JSON.stringify(value));
const parse = (raw: Uint8Array): unknown => JSON.parse(fromUtf8(raw));

/** The verified entries ending at this device's persisted head (empty before the first). */
export function knownTail(secrets: Secrets, groupId: string): LogEntry[] {
  const raw = secrets.get(tailName(groupId));
  return raw ? (parse(raw) as unknown[]).map((e) => LogEntry.fromJson(e)) : [];
}

/** Persist the new head once a log verified; never move it backwards. */
export function rememberHead(secrets: Secrets, roster: Roster): void {
  const tail = knownTail(secrets, roster.groupId);
  if (tail.length && tail.at(-1)!.seq > roster.headSeq) return;
  secrets.set(tailName(roster.groupId), json(roster.entries.slice(-TAIL).map((e) => e.toJson())));
}

export function forgetHead(secrets: Secrets, groupId: string): void {
  secrets.delete(tailName(groupId));
}

export interface ForkRecord {
  reason: string;
  proof: unknown;
}

/** Record a detected fork; every later use of the group refuses until resolved. */
export function freeze(secrets: Secrets, groupId: string, reason: string, proof: unknown): void {
  secrets.set(forkName(groupId), json({ reason, proof }));
}

export function forkRecord(secrets: Secrets, groupId: string): ForkRecord | null {
  const raw = secrets.get(forkName(groupId));
  return raw ? (parse(raw) as ForkRecord) : null;
}

/** Refuse to act on a group whose log this device saw forked. */
export function checkNotFrozen(secrets: Secrets, groupId: string): void {
  const record = forkRecord(secrets, groupId);
  if (record) {
    throw new GroupFrozenError(`group ${groupId} is frozen on this device: ${record.reason}. Compare \`cordon group head\` with your coordinator, then run \`cordon group resolve-fork\``);
  }
}

export function unfreeze(secrets: Secrets, groupId: string): void {
  secrets.delete(forkName(groupId));
}
