/**
 * History grants for late joiners (PROTOCOL §9.1), in memory over a real signed log: the
 * coordinator keeps the keys of what it opens and sends, grants them, and the member's import
 * checks every rule of "Importing" with its exact error, as the SDK's tests do
 * (tests/crypto/test_crypto_docs_trust.py, tests/adversary/test_docs_attacks.py).
 */
import { describe, expect, it } from "vitest";
import { b64StdEncode } from "../../src/crypto/bytes";
import { KeystoreData } from "../../src/crypto/keystore";
import { ContentType } from "../../src/crypto/labels";
import { LogWriter } from "../../src/crypto/log";
import { newSigningKey, sha256 } from "../../src/crypto/primitives";
import { verifyLog } from "../../src/crypto/roster";
import { type Recipient, sealTargeted } from "../../src/crypto/seal";
import { GroupSession, historyBundleBytes, historyBundleFromBytes } from "../../src/crypto/session";
import { type GrantedItem, historyGrantBytes, historyGrantFromBytes } from "../../src/crypto/documents";
import { parseEnvelope } from "../../src/crypto/envelope";
import { grantedItem } from "../../src/feed/engine";
import { grantedItems, groupsWithGrants, importGranted, keepGrant, mergeRecords, observe, observeSent, parseTransferArchive, PENDING, transferArchives } from "../../src/records/history";
import { refused } from "./helpers";

const GROUP = "00000000-0000-4000-8000-0000000000aa";
const OTHER_GROUP = "00000000-0000-4000-8000-0000000000bb";
const [COORD, PLAIN, LATE] = ["00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000002", "00000000-0000-4000-8000-000000000003"];
const [COORD_DEV, PLAIN_DEV, LATE_DEV] = ["00000000-0000-4000-8000-000000000011", "00000000-0000-4000-8000-000000000012", "00000000-0000-4000-8000-000000000013"];
const NOW = 1_700_000_000_000;
const text = (s: string) => new TextEncoder().encode(s);

async function withPrekey(device: string) {
  const data = await KeystoreData.create(device);
  const prekey = (await data.rotatePrekeys(NOW))!;
  const recipient: Recipient = { deviceId: device, prekeyId: prekey.prekeyId, publicKey: prekey.publicKey };
  return { data, prekeys: new Map([[prekey.prekeyId, data.prekeyPair(prekey.prekeyId)!]]), recipient };
}

/** A case and a coordinator's own review sent before LATE joined; the coordinator kept both keys. */
async function setup() {
  const root = await newSigningKey();
  const keys = { coord: await newSigningKey(), plain: await newSigningKey(), late: await newSigningKey() };
  const coord = await withPrekey(COORD_DEV);
  const plain = await withPrekey(PLAIN_DEV);
  const late = await withPrekey(LATE_DEV);
  const log = new LogWriter(GROUP);
  await log.genesis(root, NOW);
  await log.addMember(root, COORD, keys.coord.publicKey, "coordinator", NOW);
  await log.addMember(root, PLAIN, keys.plain.publicKey, "member", NOW);
  await log.addDevice(keys.coord, COORD, COORD_DEV, coord.data.signingKey.publicKey, NOW);
  await log.addDevice(keys.plain, PLAIN, PLAIN_DEV, plain.data.signingKey.publicKey, NOW);
  const early = await verifyLog(root.publicKey, GROUP, log.entries);
  const c = new GroupSession(early, COORD_DEV, coord.data.signingKey, coord.prekeys);
  const p = new GroupSession(early, PLAIN_DEV, plain.data.signingKey, plain.prekeys);
  const secrets = new Map<string, Uint8Array>();
  // PLAIN posts a case (seq 10); the coordinator opens it and keeps its key.
  await c.decrypt(await p.rotateSenderChain([coord.recipient], NOW + 1));
  const caseEnv = await p.encryptBroadcast(ContentType.ALERT, text('{"case": 1}'), NOW + 2);
  const opened = await c.decrypt(caseEnv);
  observe(secrets, c.roster, c.memberId, { group_id: GROUP, seq: 10, kind: "alert", parent_seq: null }, caseEnv, opened.itemKey);
  // A plain chat (no parent) is not in a scope: nothing kept.
  const chat = await p.encryptBroadcast(ContentType.MESSAGE, text("hello"), NOW + 3);
  observe(secrets, c.roster, c.memberId, { group_id: GROUP, seq: 11, kind: "chat", parent_seq: null }, chat, (await c.decrypt(chat)).itemKey);
  // The coordinator's own review of it (seq 12): the key of its next index, kept before sealing.
  await p.decrypt(await c.rotateSenderChain([plain.recipient], NOW + 4));
  const ownKey = c.nextBroadcastKey();
  const review = await c.encryptBroadcast(ContentType.MESSAGE, text('{"review": 1}'), NOW + 5);
  observeSent(secrets, GROUP, 12, "chat", 10, review, ownKey);
  // A targeted pre-notification the coordinator opened (seq 13): its content key.
  const pn = await p.encryptTargeted(ContentType.PRENOTIFICATION, text('{"pn": 1}'), [coord.recipient], NOW + 6);
  const pnOpened = await c.decrypt(pn);
  observe(secrets, c.roster, c.memberId, { group_id: GROUP, seq: 13, kind: "prenotification", parent_seq: null }, pn, pnOpened.itemKey);
  // LATE joins afterwards.
  await log.addMember(root, LATE, keys.late.publicKey, "member", NOW + 7);
  await log.addDevice(keys.late, LATE, LATE_DEV, late.data.signingKey.publicKey, NOW + 7);
  return { root, log, keys, coord, plain, late, c, p, secrets, early, envelopes: { caseEnv, chat, review, pn } };
}

type Setup = Awaited<ReturnType<typeof setup>>;

/** The item as the history route serves it. */
const served = (seq: number, envelope: Uint8Array, sender: string, kind = "alert", parent: number | null = null) => ({
  group_id: GROUP,
  seq,
  kind,
  sender_user_id: sender,
  sender_device_id: parseEnvelope(envelope).header.senderDeviceId,
  parent_seq: parent,
  urgent: false,
  created_at: "2026-12-01T10:00:00Z",
  envelope: b64StdEncode(envelope),
});

const item = (seq: number, envelope: Uint8Array, itemKey: Uint8Array<ArrayBuffer>): GrantedItem => {
  const h = parseEnvelope(envelope).header;
  return { seq, senderDeviceId: h.senderDeviceId, messageId: h.messageId, envelopeHash: sha256(envelope), itemKey };
};

/** LATE's import against a server that serves `pages` (seq → item) or fails. */
async function importWith(s: Setup, scope: string, items: GrantedItem[], pages: Map<number, object> | "fail") {
  const roster = await verifyLog(s.root.publicKey, GROUP, s.log.entries);
  const secrets = new Map<string, Uint8Array>();
  keepGrant(secrets, GROUP, "00000000-0000-4000-8000-00000000ff01", historyGrantBytes({ memberId: LATE, scope, items }));
  const asked: string[] = [];
  const ctx = {
    secrets,
    roster: async () => roster,
    call: async <T,>(_method: string, path: string): Promise<T> => {
      asked.push(path);
      if (pages === "fail") throw new Error("503");
      const seqs = [...new URL(path, "http://x").searchParams.getAll("seq")].map(Number);
      return seqs.flatMap((q) => (pages.has(q) ? [pages.get(q)!] : [])) as T;
    },
  };
  const imported = await importGranted(ctx, GROUP);
  return { out: imported.map((i) => i.incoming), imported, secrets, asked };
}

describe("history grants: keeping keys and granting (§9.1)", () => {
  it("the coordinator keeps keys of cases, threads, its own broadcasts and pre-notifications only", async () => {
    const s = await setup();
    expect(grantedItems(s.secrets, GROUP, "cases").map((i) => [i.seq, i.itemKey.length])).toEqual([
      [10, 44],
      [12, 44],
    ]);
    expect(grantedItems(s.secrets, GROUP, "prenotifications").map((i) => [i.seq, i.itemKey.length])).toEqual([[13, 32]]);
    // A member's device keeps nothing.
    const mine = new Map<string, Uint8Array>();
    observe(mine, s.p.roster, s.p.memberId, { group_id: GROUP, seq: 12, kind: "chat", parent_seq: 10 }, s.envelopes.review, new Uint8Array(44));
    expect(mine.size).toBe(0);
  });

  it("a grant is sealed only after the logged grant and only to the member's devices; LATE opens and keeps it", async () => {
    const s = await setup();
    const grant = { memberId: LATE, scope: "cases", items: grantedItems(s.secrets, GROUP, "cases") };
    s.c.updateRoster(await verifyLog(s.root.publicKey, GROUP, s.log.entries));
    await refused(() => s.c.grantHistory(grant, [s.late.recipient], NOW + 8), "UntrustedSenderError", "the log holds no cases grant for this member");
    const l = new GroupSession(await verifyLog(s.root.publicKey, GROUP, s.log.entries), LATE_DEV, s.late.data.signingKey, s.late.prekeys);
    // Sealed without the logged grant (a forged sender path): LATE refuses it.
    const forged = await s.c.encryptTargeted(ContentType.HISTORY_GRANT, historyGrantBytes(grant), [s.late.recipient], NOW + 8);
    l.updateRoster(await verifyLog(s.root.publicKey, GROUP, s.log.entries));
    await refused(() => l.decrypt(forged), "HistoryGrantError", "history grant, but the log holds no history grant for you");
    await s.log.grantHistory(s.root, LATE, "cases", NOW + 9);
    const roster = await verifyLog(s.root.publicKey, GROUP, s.log.entries);
    s.c.updateRoster(roster);
    s.p.updateRoster(roster);
    l.updateRoster(roster);
    await refused(() => s.c.grantHistory(grant, [s.plain.recipient], NOW + 10), "UntrustedSenderError", "history grants go only to the granted member's devices");
    // From a plain member's device: refused by LATE.
    const fromMember = await s.p.encryptTargeted(ContentType.HISTORY_GRANT, historyGrantBytes(grant), [s.late.recipient], NOW + 10);
    await refused(() => l.decrypt(fromMember), "HistoryGrantError", `history grant from device ${PLAIN_DEV} of a member, not a coordinator`);
    // A scope the log does not grant.
    const wrongScope = await s.c.encryptTargeted(ContentType.HISTORY_GRANT, historyGrantBytes({ ...grant, scope: "prenotifications" }), [s.late.recipient], NOW + 10);
    await refused(() => l.decrypt(wrongScope), "HistoryGrantError", "history grant for scope 'prenotifications', which the log does not grant you");
    const ok = await s.c.grantHistory(grant, [s.late.recipient], NOW + 11);
    const got = await l.decrypt(ok);
    expect(historyGrantFromBytes(got.content)).toEqual(grant);
    const secrets = new Map<string, Uint8Array>();
    keepGrant(secrets, GROUP, got.header.messageId, got.content);
    expect(groupsWithGrants(secrets)).toEqual([GROUP]);
  });
});

describe("history grants: importing (§9.1), each rule with its exact error", () => {
  it("verified items come back decrypted with the signed sender, review and send time", async () => {
    const s = await setup();
    await s.log.grantHistory(s.root, LATE, "cases", NOW + 9);
    const items = grantedItems(s.secrets, GROUP, "cases");
    const pages = new Map<number, object>([
      [10, served(10, s.envelopes.caseEnv, PLAIN)],
      [12, served(12, s.envelopes.review, COORD, "chat", 10)],
    ]);
    const { out, secrets, asked } = await importWith(s, "cases", items, pages);
    expect(asked).toEqual([`/groups/${GROUP}/history/cases?seq=10&seq=12`]);
    expect(out.map((i) => [i.seq, i.verified, i.error, new TextDecoder().decode(i.content!)])).toEqual([
      [10, true, null, '{"case": 1}'],
      [12, true, null, '{"review": 1}'],
    ]);
    expect(out[1]!.parent_seq).toBe(10);
    expect(out[0]!.sent_at).toBe("2023-11-14T22:13:20.002000+00:00");
    expect(groupsWithGrants(secrets)).toEqual([]); // all imported: nothing pending
  });

  it("the alerts feed shows them as received then: signed identity and urgency; a refused one only as its refusal", async () => {
    const s = await setup();
    await s.log.grantHistory(s.root, LATE, "cases", NOW + 9);
    const tampered = s.envelopes.review.slice();
    tampered[tampered.length - 1]! ^= 1;
    const pages = new Map<number, object>([
      [10, { ...served(10, s.envelopes.caseEnv, PLAIN), urgent: true }], // the server's copy says urgent; the signed labels do not
      [12, served(12, tampered, COORD, "chat", 10)],
    ]);
    const { imported } = await importWith(s, "cases", grantedItems(s.secrets, GROUP, "cases"), pages);
    const h = parseEnvelope(s.envelopes.caseEnv).header;
    const base = { groupId: GROUP, urgent: false, createdAt: "2026-12-01T10:00:00Z", mine: false, read: true }; // read: no receipt for it
    expect(imported.map(grantedItem)).toEqual([
      { ...base, seq: 10, senderUserId: PLAIN, text: '{"case": 1}', refused: null, parentSeq: null, ref: { senderDeviceId: h.senderDeviceId, messageId: h.messageId } },
      { ...base, seq: 12, senderUserId: COORD, text: null, refused: "granted item seq 12: the served envelope is not the one granted" },
    ]);
  });

  it("a grant in parts (several envelopes of one scope, as a large grant is sent) is kept whole and imported whole", async () => {
    const s = await setup();
    await s.log.grantHistory(s.root, LATE, "cases", NOW + 9);
    const [first, second] = grantedItems(s.secrets, GROUP, "cases");
    const roster = await verifyLog(s.root.publicKey, GROUP, s.log.entries);
    const secrets = new Map<string, Uint8Array>();
    keepGrant(secrets, GROUP, "00000000-0000-4000-8000-00000000ff01", historyGrantBytes({ memberId: LATE, scope: "cases", items: [first!] }));
    keepGrant(secrets, GROUP, "00000000-0000-4000-8000-00000000ff02", historyGrantBytes({ memberId: LATE, scope: "cases", items: [second!] }));
    expect(groupsWithGrants(secrets)).toEqual([GROUP]);
    const pages = new Map<number, object>([
      [10, served(10, s.envelopes.caseEnv, PLAIN)],
      [12, served(12, s.envelopes.review, COORD, "chat", 10)],
    ]);
    const call = async <T,>(_method: string, path: string): Promise<T> => [...new URL(path, "http://x").searchParams.getAll("seq")].map(Number).flatMap((q) => (pages.has(q) ? [pages.get(q)!] : [])) as T;
    const out = (await importGranted({ secrets, roster: async () => roster, call }, GROUP)).map((i) => i.incoming);
    expect(out.map((i) => [i.seq, i.verified, i.error])).toEqual([
      [10, true, null],
      [12, true, null],
    ]);
    expect(groupsWithGrants(secrets)).toEqual([]);
  });

  it("a targeted pre-notification opens with its content key", async () => {
    const s = await setup();
    await s.log.grantHistory(s.root, LATE, "prenotifications", NOW + 9);
    const items = grantedItems(s.secrets, GROUP, "prenotifications");
    const { out, imported } = await importWith(s, "prenotifications", items, new Map([[13, served(13, s.envelopes.pn, PLAIN, "prenotification")]]));
    expect(out.map((i) => [i.seq, i.verified, new TextDecoder().decode(i.content!)])).toEqual([[13, true, '{"pn": 1}']]);
    expect(imported.map(grantedItem)).toEqual([null]); // not an alerts feed line
  });

  it("items not served stay pending and are asked for again; a failing request loses nothing", async () => {
    const s = await setup();
    await s.log.grantHistory(s.root, LATE, "cases", NOW + 9);
    const items = grantedItems(s.secrets, GROUP, "cases");
    const partial = await importWith(s, "cases", items, new Map([[10, served(10, s.envelopes.caseEnv, PLAIN)]]));
    expect(partial.out.map((i) => i.seq)).toEqual([10]);
    const left = historyGrantFromBytes(Uint8Array.from(atob(Object.values(JSON.parse(new TextDecoder().decode(partial.secrets.get(PENDING(GROUP))!)) as Record<string, string>)[0]!), (ch) => ch.charCodeAt(0)));
    expect(left.items.map((i) => i.seq)).toEqual([12]);
    const failed = await importWith(s, "cases", items, "fail");
    expect(failed.out).toEqual([]);
    expect(groupsWithGrants(failed.secrets)).toEqual([GROUP]);
  });

  async function refusal(s: Setup, scope: string, granted: GrantedItem, page: object): Promise<string | null> {
    await s.log.grantHistory(s.root, LATE, scope, NOW + 9);
    const { out } = await importWith(s, scope, [granted], new Map([[granted.seq, page]]));
    expect(out).toHaveLength(1);
    expect([out[0]!.verified, out[0]!.content]).toEqual([false, null]);
    return out[0]!.error;
  }

  it("the served envelope is not the one granted (its SHA-256)", async () => {
    const s = await setup();
    const [granted] = grantedItems(s.secrets, GROUP, "cases");
    const tampered = s.envelopes.caseEnv.slice();
    tampered[tampered.length - 1]! ^= 1;
    expect(await refusal(s, "cases", granted!, served(10, tampered, PLAIN))).toBe("granted item seq 10: the served envelope is not the one granted");
  });

  it("the envelope does not parse", async () => {
    const s = await setup();
    const junk = text("not an envelope at all");
    const granted = { ...grantedItems(s.secrets, GROUP, "cases")[0]!, envelopeHash: sha256(junk) };
    expect(await refusal(s, "cases", granted, { ...served(10, s.envelopes.caseEnv, PLAIN), envelope: b64StdEncode(junk) })).toBe("granted item seq 10: envelope: shorter than the fixed header");
  });

  it("the envelope is for another group", async () => {
    const s = await setup();
    const other = await sealTargeted({ signingKey: s.plain.data.signingKey, senderDeviceId: PLAIN_DEV, groupId: OTHER_GROUP, epochId: s.early.epochId, contentType: ContentType.PRENOTIFICATION, content: text("x"), recipients: [s.coord.recipient], ts: NOW });
    expect(await refusal(s, "prenotifications", item(13, other, new Uint8Array(32)), served(13, other, PLAIN, "prenotification"))).toBe("granted item seq 13: the envelope is for another group");
  });

  it("its sender device or message id is not the grant's", async () => {
    const s = await setup();
    const [granted] = grantedItems(s.secrets, GROUP, "cases");
    const swapped = { ...granted!, messageId: "00000000-0000-4000-8000-00000000beef" };
    expect(await refusal(s, "cases", swapped, served(10, s.envelopes.caseEnv, PLAIN))).toBe("granted item seq 10: sender device or message id differs from the grant");
  });

  it("its kind and content type do not fit the scope", async () => {
    const s = await setup();
    const [pn] = grantedItems(s.secrets, GROUP, "prenotifications");
    expect(await refusal(s, "cases", { ...pn!, seq: 13 }, served(13, s.envelopes.pn, PLAIN, "alert"))).toBe(`granted item seq 13: content type ${ContentType.PRENOTIFICATION} is not in scope cases`);
  });

  it("its sender device was not certified at the head it names", async () => {
    const s = await setup();
    // LATE's device signs an envelope naming the head before it was certified.
    const early = await sealTargeted({ signingKey: s.late.data.signingKey, senderDeviceId: LATE_DEV, groupId: GROUP, epochId: s.early.epochId, contentType: ContentType.PRENOTIFICATION, content: text("x"), recipients: [s.coord.recipient], ts: NOW });
    expect(await refusal(s, "prenotifications", item(13, early, new Uint8Array(32)), served(13, early, LATE, "prenotification"))).toBe(`granted item seq 13: sender device ${LATE_DEV} was not in the log at that head`);
    const s2 = await setup();
    const unknownHead = await sealTargeted({ signingKey: s2.plain.data.signingKey, senderDeviceId: PLAIN_DEV, groupId: GROUP, epochId: new Uint8Array(32).fill(7), contentType: ContentType.PRENOTIFICATION, content: text("x"), recipients: [s2.coord.recipient], ts: NOW });
    expect(await refusal(s2, "prenotifications", item(13, unknownHead, new Uint8Array(32)), served(13, unknownHead, PLAIN, "prenotification"))).toBe("granted item seq 13: names a log head this device has not verified");
  });

  it("the original sender's signature does not verify", async () => {
    const s = await setup();
    const forged = s.envelopes.caseEnv.slice();
    forged[forged.length - 70]! ^= 1; // inside the body: the hash is recomputed, the signature fails
    const [granted] = grantedItems(s.secrets, GROUP, "cases");
    expect(await refusal(s, "cases", { ...granted!, envelopeHash: sha256(forged) }, served(10, forged, PLAIN))).toBe("granted item seq 10: envelope: signature does not verify");
  });

  it("the body does not decrypt with the granted key", async () => {
    const s = await setup();
    const [granted] = grantedItems(s.secrets, GROUP, "cases");
    expect(await refusal(s, "cases", { ...granted!, itemKey: new Uint8Array(44) }, served(10, s.envelopes.caseEnv, PLAIN))).toBe("granted item seq 10: message could not be decrypted");
  });

  it("the server's sender_user_id is not the signed sender's member", async () => {
    const s = await setup();
    const [granted] = grantedItems(s.secrets, GROUP, "cases");
    expect(await refusal(s, "cases", granted!, served(10, s.envelopes.caseEnv, COORD))).toBe("granted item seq 10: the server's sender is not the signed sender");
  });

  it("a granted status event is bound by the hash of the served event", async () => {
    const s = await setup();
    const event = text(JSON.stringify({ seq: 14, from: "sent", to: "acknowledged" }));
    const granted: GrantedItem = { seq: 14, senderDeviceId: PLAIN_DEV, messageId: "00000000-0000-0000-0000-000000000000", envelopeHash: sha256(event), itemKey: new Uint8Array() };
    const page = { ...served(14, s.envelopes.pn, null as unknown as string, "prenotification_event"), sender_device_id: PLAIN_DEV, envelope: b64StdEncode(text(JSON.stringify({ seq: 14, from: "sent", to: "arrived" }))) };
    expect(await refusal(s, "prenotifications", granted, page)).toBe("granted item seq 14: the served status event is not the one granted");
    const s2 = await setup();
    await s2.log.grantHistory(s2.root, LATE, "prenotifications", NOW + 9);
    const { out } = await importWith(s2, "prenotifications", [granted], new Map([[14, { ...page, envelope: b64StdEncode(event) }]]));
    expect(out.map((i) => [i.seq, i.kind, i.event])).toEqual([[14, "prenotification_event", { seq: 14, from: "sent", to: "acknowledged" }]]);
  });
});

describe("history transfer archive (§9 HISTORY_TRANSFER)", () => {
  const feedItem = (seq: number, groupId = GROUP) => ({ seq, groupId, text: `item ${seq} ${"x".repeat(200)}`, refused: null });
  it("splits into parts that each fit an envelope, and parses back only this group's items", async () => {
    const feed = Array.from({ length: 2000 }, (_, i) => feedItem(i + 1));
    const records = [{ seq: 5, group_id: GROUP, valid: true }];
    const parts = transferArchives(GROUP, feed, records, 150_000);
    expect(parts.length).toBeGreaterThan(1);
    for (const p of parts) expect(p.length).toBeLessThanOrEqual(150_100);
    const back = parts.map((p) => parseTransferArchive<ReturnType<typeof feedItem>>(GROUP, p));
    expect(back.flatMap((b) => b.feed.map((i) => i.seq))).toEqual(feed.map((i) => i.seq));
    expect(back.flatMap((b) => b.records)).toEqual(records);
    // Another group's archive, another version, an SDK's empty archive, junk: nothing.
    expect(parseTransferArchive(OTHER_GROUP, parts[0]!)).toEqual({ feed: [], records: [] });
    expect(parseTransferArchive(GROUP, new Uint8Array())).toEqual({ feed: [], records: [] });
    expect(parseTransferArchive(GROUP, text('{"v": 2, "group_id": "' + GROUP + '", "feed": [1]}'))).toEqual({ feed: [], records: [] });
    expect(parseTransferArchive(GROUP, text("not json"))).toEqual({ feed: [], records: [] });
    const mixed = text(JSON.stringify({ v: 1, group_id: GROUP, feed: [feedItem(1), feedItem(2, OTHER_GROUP)], records: [{ seq: 1, group_id: OTHER_GROUP }] }));
    expect(parseTransferArchive<ReturnType<typeof feedItem>>(GROUP, mixed)).toMatchObject({ feed: [{ seq: 1 }], records: [] });
  });

  it("merged records never replace an item this device holds valid", () => {
    const secrets = new Map<string, Uint8Array>([[`domain-archive:${GROUP}`, text(JSON.stringify([{ seq: 1, valid: true, mark: "mine" }, { seq: 2, valid: false, mark: "mine" }]))]]);
    expect(mergeRecords(secrets, GROUP, [{ seq: 1, valid: true, mark: "theirs" }, { seq: 2, valid: true, mark: "theirs" }, { seq: 3, valid: true, mark: "theirs" }] as unknown as { seq: number; valid: boolean }[])).toBe(2);
    const merged = JSON.parse(new TextDecoder().decode(secrets.get(`domain-archive:${GROUP}`)!)) as { seq: number; mark: string }[];
    expect(merged.map((i) => [i.seq, i.mark])).toEqual([
      [1, "mine"],
      [2, "theirs"],
      [3, "theirs"],
    ]);
  });

  it("a transfer goes only to another device of the same member; the bundle round-trips", async () => {
    const s = await setup();
    const roster = await verifyLog(s.root.publicKey, GROUP, s.log.entries);
    s.c.updateRoster(roster);
    const archive = transferArchives(GROUP, [feedItem(1)], [])[0]!;
    await refused(() => s.c.transferHistory(s.c.exportHistory(archive), s.late.recipient, NOW + 8), "UntrustedSenderError", "history goes only to another device of the same member");
    expect(historyBundleFromBytes(historyBundleBytes(s.c.exportHistory(archive))).archive).toEqual(archive);
  });
});
