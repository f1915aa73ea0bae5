/** GroupSession end to end in memory: a real signed log, chains, one-time prekeys, refusals. */

import { describe, expect, it } from "vitest";
import { b64e } from "../../src/crypto/bytes";
import { ContentType } from "../../src/crypto/labels";
import { LogWriter } from "../../src/crypto/log";
import { OneTimePrekeyStore, selectRecipients, ClaimLedger } from "../../src/crypto/prekeys";
import { newSigningKey } from "../../src/crypto/primitives";
import { checkOwnDevice, verifyLog } from "../../src/crypto/roster";
import { KeystoreData } from "../../src/crypto/keystore";
import { GroupSession } from "../../src/crypto/session";
import { refused } from "./helpers";

const GROUP = "00000000-0000-4000-8000-0000000000aa";
const [ALICE, BOB] = ["00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000002"];
const [ALICE_DEV, BOB_DEV] = ["00000000-0000-4000-8000-000000000011", "00000000-0000-4000-8000-000000000012"];
const NOW = 1_700_000_000_000;

async function group() {
  const root = await newSigningKey();
  const [aliceKey, bobKey] = [await newSigningKey(), await newSigningKey()];
  const alice = await KeystoreData.create(ALICE_DEV);
  const bob = await KeystoreData.create(BOB_DEV);
  const log = new LogWriter(GROUP);
  await log.genesis(root, NOW);
  await log.addMember(root, ALICE, aliceKey.publicKey, "coordinator", NOW);
  await log.addMember(root, BOB, bobKey.publicKey, "member", NOW);
  await log.addDevice(aliceKey, ALICE, ALICE_DEV, alice.signingKey.publicKey, NOW);
  await log.addDevice(bobKey, BOB, BOB_DEV, bob.signingKey.publicKey, NOW);
  const roster = await verifyLog(root.publicKey, GROUP, log.entries);
  checkOwnDevice(roster, BOB_DEV, bob.signingKey.publicKey);
  const bobPrekey = (await bob.rotatePrekeys(NOW))!;
  const bobOneTime = new OneTimePrekeyStore();
  const [otpk] = await bobOneTime.generate(bob.signingKey, BOB_DEV, 1);
  const a = new GroupSession(roster, ALICE_DEV, alice.signingKey);
  const b = new GroupSession(roster, BOB_DEV, bob.signingKey, new Map([[bobPrekey.prekeyId, bob.prekeyPair(bobPrekey.prekeyId)!]]), bobOneTime);
  return { roster, a, b, bobPrekey, otpk: otpk!, root, log };
}

describe("GroupSession", () => {
  it("sender key, broadcast, replay, tampering, and a one-time prekey used once", async () => {
    const { roster, a, b, bobPrekey, otpk } = await group();
    const ledger = new ClaimLedger();
    const sel = await selectRecipients(roster, [BOB_DEV], new Map([[BOB_DEV, bobPrekey]]), new Map([[BOB_DEV, otpk]]), NOW + 1, ledger);
    expect(sel.recipients.map((r) => [r.deviceId, r.prekeyType])).toEqual([[BOB_DEV, 2]]);
    const distribution = await a.rotateSenderChain(sel.recipients, NOW + 1);
    const got = await b.decrypt(distribution);
    expect(got.contentType).toBe(ContentType.SENDER_KEY);
    expect(b.oneTimePrekeys!.privates.size).toBe(0); // consumed after the envelope opened
    const text = new TextEncoder().encode("40 kg of counterfeit medicines");
    const first = await a.encryptBroadcast(ContentType.ALERT, text, NOW + 2);
    const second = await a.encryptBroadcast(ContentType.ALERT, text, NOW + 3);
    // Tampered: refused, and nothing changes (the genuine one still opens afterwards).
    const bad = first.slice();
    bad[bad.length - 70]! ^= 1;
    const before = b.exportState();
    await refused(() => b.decrypt(bad), "SignatureError", "envelope: signature does not verify");
    expect(b.exportState()).toEqual(before);
    expect(new TextDecoder().decode((await b.decrypt(second)).content)).toBe("40 kg of counterfeit medicines");
    expect((await b.decrypt(first)).senderMemberId).toBe(ALICE); // a skipped key
    await refused(() => b.decrypt(first), "ReplayError", "duplicate message id from this device");
    // The state round-trips through its byte form.
    const twin = new GroupSession(roster, BOB_DEV, (await KeystoreData.create(BOB_DEV)).signingKey);
    twin.restoreState(b.exportState());
    expect(twin.exportState()).toEqual(b.exportState());
    // A second envelope to the used one-time prekey cannot be opened.
    const again = await a.encryptTargeted(ContentType.MESSAGE, text, sel.recipients, NOW + 4);
    await refused(() => b.decrypt(again), "KeyUnavailableError", `one-time prekey ${otpk.prekeyId} is unknown or already used`);
    // The served prekey again is refused by the sender's ledger, which falls back to the signed prekey.
    const resel = await selectRecipients(roster, [BOB_DEV], new Map([[BOB_DEV, bobPrekey]]), new Map([[BOB_DEV, otpk]]), NOW + 5, ledger);
    expect(resel.recipients[0]!.prekeyType).toBe(1);
    expect(resel.refusals.map((e) => e.name)).toEqual(["PrekeyReuseError"]);
  });

  it("a broadcast on an unknown chain is MissingChainError; an expired prekey leaves the device out", async () => {
    const { roster, a, b, bobPrekey } = await group();
    const rotate = await a.rotateSenderChain([{ deviceId: BOB_DEV, prekeyId: bobPrekey.prekeyId, publicKey: bobPrekey.publicKey }], NOW + 1);
    expect(rotate.length).toBeGreaterThan(0);
    const bc = await a.encryptBroadcast(ContentType.MESSAGE, new Uint8Array([1]), NOW + 2);
    await refused(() => b.decrypt(bc), "MissingChainError", `no sender key for chain ${a.senderChain!.chainId} of device ${ALICE_DEV}`);
    const late = await selectRecipients(roster, [BOB_DEV], new Map([[BOB_DEV, bobPrekey]]), new Map(), NOW + 8 * 86_400_000, new ClaimLedger());
    expect(late.excluded.map((e) => e.message)).toEqual([`device ${BOB_DEV} of member ${BOB} left out: prekey ${bobPrekey.prekeyId} of ${BOB_DEV} is expired`]);
  });

  it("the own-key rule refuses a log certifying another key for this device", async () => {
    const { roster } = await group();
    const other = await newSigningKey();
    await refused(() => checkOwnDevice(roster, BOB_DEV, other.publicKey), "DeviceKeyMismatchError");
    expect(b64e(other.publicKey)).toHaveLength(43);
  });
});

describe("receipts (§7.2)", () => {
  it("a signed receipt from a roster device for my item is accepted; others are refused", async () => {
    const { roster } = await group();
    const { receiptBody, checkReceipt } = await import("../../src/protocol");
    const bob = await KeystoreData.create(BOB_DEV);
    // Bob's real device key is the one in the roster: rebuild the group with it known.
    const mine = { senderDeviceId: ALICE_DEV, messageId: "00000000-0000-4000-8000-00000000f001" };
    const body = await receiptBody(bob.signingKey, { groupId: GROUP, seq: 9, item: mine, deviceId: BOB_DEV, status: "read", ts: NOW });
    const event = { seq: 9, device_id: BOB_DEV, user_id: BOB, status: "read", at: "", item: { sender_device_id: mine.senderDeviceId, message_id: mine.messageId }, ts: NOW, sig: body.sig };
    // This keystore's key is not the roster's key for BOB_DEV: the signature is refused.
    await refused(() => checkReceipt(event, GROUP, roster, mine), "SignatureError", "receipt for seq 9: signature does not verify");
    await refused(() => checkReceipt({ ...event, device_id: "00000000-0000-4000-8000-0000000000ff" }, GROUP, roster, mine), "UntrustedSenderError", "receipt from device 00000000-0000-4000-8000-0000000000ff, not in the verified roster");
    await refused(() => checkReceipt({ ...event, sig: "x" }, GROUP, roster, mine), "RoutingMismatchError");
  });

  it("accepts the real device's receipt only for the item at that seq", async () => {
    const root = await newSigningKey();
    const bobKey = await newSigningKey();
    const bob = await KeystoreData.create(BOB_DEV);
    const log = new LogWriter(GROUP);
    await log.genesis(root, NOW);
    await log.addMember(root, BOB, bobKey.publicKey, "member", NOW);
    await log.addDevice(bobKey, BOB, BOB_DEV, bob.signingKey.publicKey, NOW);
    const roster = await verifyLog(root.publicKey, GROUP, log.entries);
    const { receiptBody, checkReceipt } = await import("../../src/protocol");
    const mine = { senderDeviceId: ALICE_DEV, messageId: "00000000-0000-4000-8000-00000000f001" };
    const body = await receiptBody(bob.signingKey, { groupId: GROUP, seq: 9, item: mine, deviceId: BOB_DEV, status: "delivered", ts: NOW });
    const event = { seq: 9, device_id: BOB_DEV, status: "delivered", item: { sender_device_id: mine.senderDeviceId, message_id: mine.messageId }, ts: NOW, sig: body.sig };
    await checkReceipt(event, GROUP, roster, mine);
    await refused(() => checkReceipt(event, GROUP, roster, { ...mine, messageId: "00000000-0000-4000-8000-00000000f002" }), "RoutingMismatchError", "receipt for seq 9: signed for another item than the one there");
    await refused(() => checkReceipt({ ...event, status: "read" }, GROUP, roster, mine), "SignatureError", "receipt for seq 9: signature does not verify");
  });
});
