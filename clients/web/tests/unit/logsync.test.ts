/** src/protocol: paging the log (§4.5), persisted head, rollback, fork freeze (§4.6–4.7). */

import { describe, expect, it } from "vitest";
import { b64d } from "../../src/crypto";
import { forkRecord, knownTail, readLog, refreshRoster, type Secrets } from "../../src/protocol";
import { type Any, refused, vectors } from "./helpers";

const T = vectors("trustlog.json").log;
const ROOT = b64d(T.root_key);
const entriesJson: Any[] = T.entries.map((e: Any) => e.entry);

/** Pages exactly as the server's route shapes them, over a list of served entries. */
function served(list: Any[], headSeq: number | null = list.length ? list.at(-1).seq : null, pageSize = 4) {
  return async (after: number, limit: number) => ({
    items: list.filter((e) => e.seq > after).slice(0, Math.min(limit, pageSize)).map((e) => ({ seq: e.seq, op: e.op, entry_hash: "", entry: e })),
    head_seq: headSeq,
  });
}

describe("log sync", () => {
  it("reads every page to the head and persists the verified tail", async () => {
    expect((await readLog(served(entriesJson))).length).toBe(entriesJson.length);
    const secrets: Secrets = new Map();
    const roster = await refreshRoster({ fetchPage: served(entriesJson), secrets, groupId: T.group_id, rootKey: ROOT });
    expect(knownTail(secrets, T.group_id).map((e) => e.seq)).toEqual(roster.entries.map((e) => e.seq));
  });

  it("withheld entries and an empty page below the reported head are gaps", async () => {
    const withheld = entriesJson.filter((e) => e.seq !== 4);
    await refused(() => readLog(served(withheld)), "LogGapError", "log page after seq 3 starts at seq 5: entries withheld");
    await refused(() => readLog(served([], 3)), "LogGapError", "the server reports head seq 3 but serves nothing after seq -1");
  });

  it("a shorter log after a verified head is a rollback and changes nothing", async () => {
    const secrets: Secrets = new Map();
    await refreshRoster({ fetchPage: served(entriesJson), secrets, groupId: T.group_id, rootKey: ROOT });
    const before = [...secrets.entries()];
    const case_ = T.negative.find((c: Any) => c.error === "LogRollbackError");
    await refused(() => refreshRoster({ fetchPage: served(case_.entries), secrets, groupId: T.group_id, rootKey: ROOT }), "LogRollbackError", case_.message);
    expect([...secrets.entries()]).toEqual(before);
  });

  it("a fork at the persisted head freezes the group with its proof", async () => {
    const case_ = T.negative.find((c: Any) => c.error === "ForkError");
    const secrets: Secrets = new Map([[`log-tail:${T.group_id}`, new TextEncoder().encode(JSON.stringify(case_.known_head))]]);
    await refused(() => refreshRoster({ fetchPage: served(case_.entries), secrets, groupId: T.group_id, rootKey: ROOT }), "ForkError", case_.message);
    const record = forkRecord(secrets, T.group_id)!;
    expect(record.reason).toBe(case_.message);
    expect((record.proof as Any).seq).toBe(10);
    await refused(() => refreshRoster({ fetchPage: served(entriesJson), secrets, groupId: T.group_id, rootKey: ROOT }), "GroupFrozenError");
  });
});
