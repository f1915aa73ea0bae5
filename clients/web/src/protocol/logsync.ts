/**
 * Reading a group's log to its head and trusting it (PROTOCOL.md §4.5–4.7, §3.7): page through
 * `GET /groups/{g}/log`, verify from the pinned root against the persisted head, freeze on a
 * fork, persist the new head, apply the own-key rule. The HTTP call is injected (`fetchPage`)
 * so this runs unchanged in the app, a worker or a test.
 */

import { checkOwnDevice, ForkError, LogEntry, LogGapError, MalformedError, type Roster, verifyLog } from "../crypto";
import { checkNotFrozen, freeze, knownTail, rememberHead, type Secrets } from "./loghead";

export const LOG_PAGE = 1000;

/** The served page, unparsed: `{"items": [{"seq", "op", "entry_hash", "entry"}…], "head_seq"}`. */
export type FetchLogPage = (afterSeq: number, limit: number) => Promise<unknown>;

/** The whole log, page by page until the head the server reports (§4.5); the head is untrusted. */
export async function readLog(fetchPage: FetchLogPage): Promise<LogEntry[]> {
  const entries: LogEntry[] = [];
  for (;;) {
    const after = entries.length ? entries.at(-1)!.seq : -1;
    const data = (await fetchPage(after, LOG_PAGE)) as { items?: unknown; head_seq?: unknown };
    if (typeof data !== "object" || data === null || !Array.isArray(data.items)) throw new MalformedError("log page: expected items and head_seq");
    const head = data.head_seq;
    if (head !== null && typeof head !== "number") throw new MalformedError("log page: head_seq must be an integer or null");
    const page = data.items.map((item) => LogEntry.fromJson((item as { entry?: unknown }).entry));
    if (!page.length) {
      if (head !== null && head > after) throw new LogGapError(`the server reports head seq ${head} but serves nothing after seq ${after}`);
      return entries;
    }
    if (page[0]!.seq !== after + 1) throw new LogGapError(`log page after seq ${after} starts at seq ${page[0]!.seq}: entries withheld`);
    entries.push(...page);
    if (head === null || entries.at(-1)!.seq >= head) return entries;
  }
}

/**
 * Read, verify and remember the log of one group. A fork freezes the group (its proof kept in
 * the keystore's secrets) and is rethrown; a rollback changes nothing. The caller saves the
 * keystore afterwards.
 */
export async function refreshRoster(args: { fetchPage: FetchLogPage; secrets: Secrets; groupId: string; rootKey: Uint8Array; deviceId?: string; signingKey?: Uint8Array }): Promise<Roster> {
  const { secrets, groupId } = args;
  checkNotFrozen(secrets, groupId);
  const entries = await readLog(args.fetchPage);
  let roster: Roster;
  try {
    roster = await verifyLog(args.rootKey, groupId, entries, knownTail(secrets, groupId));
  } catch (e) {
    if (e instanceof ForkError) freeze(secrets, groupId, e.message, e.proof);
    throw e;
  }
  if (args.deviceId && args.signingKey) checkOwnDevice(roster, args.deviceId, args.signingKey);
  rememberHead(secrets, roster);
  return roster;
}
