/** trustlog.json and log.json: bindings, the signed log, rollback, fork, checkpoints, epochs. */

import { describe, expect, it } from "vitest";
import { b64d } from "../../src/crypto/bytes";
import { checkJoinMac, checkLinkCode, Invitation, joinMac, joinMacInput, linkCode, linkHash, memberQrPayload, memberSafetyNumber } from "../../src/crypto/invite";
import { fingerprint, qrPayload } from "../../src/crypto/keys";
import { LogEntry } from "../../src/crypto/log";
import { signingKeyFromSeed } from "../../src/crypto/primitives";
import { envelopeEpochSeq, rootAttestedPrefix, verifyForkProof, verifyLog } from "../../src/crypto/roster";
import { type Any, H, hex, refused, vectors } from "./helpers";

const T = vectors("trustlog.json");
const entries = (list: Any[]) => list.map((e) => LogEntry.fromJson(e));

describe("trustlog.json", () => {
  it("invitation: root hash, id, MAC key, text and join MAC", () => {
    const v = T.invitation;
    const inv = Invitation.create(v.group_id, b64d(v.root_key), H(v.secret));
    expect([hex(inv.rootHash), hex(inv.invitationId), hex(inv.macKey()), inv.toText()]).toEqual([v.root_hash, v.invitation_id, v.mac_key, v.text]);
    const parsed = Invitation.fromText(v.text);
    expect([parsed.groupId, hex(parsed.rootHash), hex(parsed.secret)]).toEqual([v.group_id, v.root_hash, v.secret]);
    const j = v.join;
    expect(hex(joinMacInput(inv, j.member_id, b64d(j.member_key)))).toBe(j.mac_input);
    expect(hex(joinMac(inv, j.member_id, b64d(j.member_key)))).toBe(j.mac);
    checkJoinMac(inv, j.member_id, b64d(j.member_key), H(j.mac));
    inv.checkRoot(v.group_id, b64d(v.root_key));
  });

  it.each<[string, Any]>(T.invitation.negative.map((c: Any) => [c.case, c]))("invitation negative: %s", async (_n, c) => {
    const v = T.invitation;
    const inv = Invitation.fromText(v.text);
    if ("mac" in c) await refused(() => checkJoinMac(inv, c.member_id, b64d(c.member_key), H(c.mac)), c.error, c.message);
    else if ("root_key" in c) await refused(() => inv.checkRoot(v.group_id, b64d(c.root_key)), c.error, c.message);
    else await refused(() => Invitation.fromText(c.text), c.error, c.message);
  });

  it("member safety number and QR payload", () => {
    const v = T.member_fingerprint;
    expect(memberSafetyNumber(v.member_id, b64d(v.member_key))).toBe(v.safety_number);
    expect(memberQrPayload(v.member_id, b64d(v.member_key))).toBe(v.qr_payload);
  });

  it("link code, and its refusals", async () => {
    const v = T.link_code;
    expect(hex(linkHash(v.member_id, v.device_id, b64d(v.device_key)))).toBe(v.link_hash);
    expect(linkCode(v.member_id, v.device_id, b64d(v.device_key))).toBe(v.code);
    checkLinkCode(v.code, v.member_id, v.device_id, b64d(v.device_key));
    for (const c of v.negative) await refused(() => checkLinkCode(v.code, v.member_id, c.device_id, b64d(c.device_key)), c.error, c.message);
    expect(v.negative.length).toBe(2);
  });

  it("a log holding every op: signed bytes, hashes, epoch, digest, removals, members", async () => {
    const v = T.log;
    const list = entries(v.entries.map((e: Any) => e.entry));
    list.forEach((e, i) => expect([hex(e.signedBytes()), hex(e.entryHash())]).toEqual([v.entries[i].signed_bytes, v.entries[i].entry_hash]));
    const roster = await verifyLog(b64d(v.root_key), v.group_id, list);
    expect([hex(roster.epochId), hex(roster.digest())]).toEqual([v.epoch_id, v.roster_digest]);
    expect(roster.removalSeqs).toEqual(v.removal_seqs);
    expect([...roster.members.keys()].sort()).toEqual(v.members);
  });

  it.each<[string, Any]>(T.log.negative.map((c: Any) => [c.case, c]))("log negative: %s", async (_n, c) => {
    const v = T.log;
    await refused(async () => {
      const known = c.known_head ? entries(c.known_head) : null;
      return verifyLog(b64d(v.root_key), v.group_id, entries(c.entries), known);
    }, c.error, c.message);
  });

  it("fork proof verifies; forged proofs are refused exactly", async () => {
    const v = T.fork_proof;
    const [a, b] = await verifyForkProof(b64d(v.root_key), v.group_id, v.proof);
    expect([hex(a.entryHash()), hex(b.entryHash())]).toEqual(v.entry_hashes);
    for (const c of v.negative) await refused(() => verifyForkProof(b64d(v.root_key), c.group_id ?? v.group_id, c.proof), c.error, c.message);
    expect(v.negative.length).toBe(3);
  });

  it("epoch window: accepted heads and refused ones", async () => {
    const v = T.epoch_window;
    const roster = await verifyLog(b64d(v.root_key), v.group_id, entries(v.entries));
    for (const c of v.cases) {
      if ("accepted_seq" in c) expect(envelopeEpochSeq(roster, H(c.epoch_id))).toBe(c.accepted_seq);
      else await refused(() => envelopeEpochSeq(roster, H(c.epoch_id)), c.error, c.message);
    }
  });

  it("root-attested checkpoint: forged prefix accepted, every negative refused", async () => {
    const v = T.root_checkpoint;
    const list = entries(v.entries);
    expect(rootAttestedPrefix(b64d(v.root_key), list)).toBe(v.attested_prefix);
    const roster = await verifyLog(b64d(v.root_key), v.group_id, list);
    expect([hex(roster.epochId), hex(roster.digest())]).toEqual([v.epoch_id, v.roster_digest]);
    for (const c of v.negative) await refused(() => verifyLog(b64d(v.root_key), v.group_id, entries(c.entries)), c.error, c.message);
    expect(v.negative.length).toBe(5);
  });
});

describe("log.json", () => {
  it("verifies to the recorded hashes, roster digest, fingerprint and QR payload", async () => {
    const v = vectors("log.json");
    const root = (await signingKeyFromSeed(H(v.root_seed))).publicKey;
    const list = entries(v.entries);
    const roster = await verifyLog(root, v.group_id, list);
    expect(list.map((e) => hex(e.entryHash()))).toEqual(v.entry_hashes);
    expect([hex(roster.epochId), hex(roster.digest())]).toEqual([v.epoch_id, v.roster_digest]);
    expect(fingerprint(v.group_id, root)).toBe(v.fingerprint);
    expect(qrPayload(v.group_id, root)).toBe(v.qr_payload);
  });
});
