/** prekeys.json: one-time prekeys, a wrap to one with every HPKE value, skipped-key bounds. */

import { describe, expect, it } from "vitest";
import { concat, uuidBytes } from "../../src/crypto/bytes";
import { u32be, u64be } from "../../src/crypto/encoding";
import { wrapInfo, WRAP_SIZE } from "../../src/crypto/envelope";
import { oneTimePrekeyFromJson, oneTimePrekeySigningInput, verifyOneTimePrekey } from "../../src/crypto/prekeys";
import { sha256, sign, signingKeyFromSeed, x25519FromPrivate } from "../../src/crypto/primitives";
import { ReceiverChain } from "../../src/crypto/ratchet";
import { hpkeOpen } from "../../src/crypto/seal";
import { type Any, H, hex, refused, vectors } from "./helpers";
import { sealBaseTrace } from "./hpke_reference";

const P = vectors("prekeys.json");
const OTPK = P.one_time_prekey;
const WRAP = P.wrap_to_one_time_prekey;
const SKIP = P.skipped_keys;

describe("prekeys.json", () => {
  it("one-time prekey: signing input by the spec's rules, deterministic signature, JSON form", async () => {
    const key = await signingKeyFromSeed(H(OTPK.device_seed));
    const pair = await x25519FromPrivate(H(OTPK.prekey_private));
    expect(hex(pair.publicKey)).toBe(OTPK.public_key);
    const bySpec = concat(new TextEncoder().encode("CXM/2/one-time-prekey\0"), u32be(16), uuidBytes(OTPK.device_id), u32be(8), u64be(OTPK.prekey_id), u32be(32), H(OTPK.public_key));
    expect(hex(bySpec)).toBe(OTPK.signing_input);
    expect(hex(oneTimePrekeySigningInput(OTPK.device_id, OTPK.prekey_id, H(OTPK.public_key)))).toBe(OTPK.signing_input);
    expect(hex(await sign(key, bySpec))).toBe(OTPK.sig);
    await verifyOneTimePrekey(oneTimePrekeyFromJson(OTPK.json), OTPK.device_id, H(OTPK.device_key));
  });

  it.each<[string, Any]>(OTPK.negative.map((c: Any) => [c.name, c]))("one-time prekey negative: %s", async (_n, c) => {
    await refused(() => verifyOneTimePrekey(oneTimePrekeyFromJson(c.json), c.verify_for_device, H(OTPK.device_key)), c.error, c.message);
  });

  it("wrap to a one-time prekey: info, every RFC 9180 value, the 85 bytes; @hpke/core opens it", async () => {
    expect(hex(sha256(H(WRAP.header)))).toBe(WRAP.header_hash);
    const info = wrapInfo(H(WRAP.header_hash), WRAP.recipient_device_id, WRAP.prekey_type, WRAP.prekey_id);
    expect(hex(info)).toBe(WRAP.info);
    const recipient = await x25519FromPrivate(H(WRAP.recipient_private));
    expect(hex(recipient.publicKey)).toBe(WRAP.recipient_public);
    const trace = await sealBaseTrace(recipient.publicKey, H(WRAP.ephemeral_private), info, H(WRAP.content_key));
    for (const [name, value] of Object.entries(trace)) expect([name, hex(value)]).toEqual([name, WRAP[name]]);
    const wrap = H(WRAP.wrap);
    expect(wrap.length).toBe(WRAP_SIZE);
    expect(hex(wrap.slice(0, 5))).toBe(hex(concat(new Uint8Array([WRAP.prekey_type]), u32be(WRAP.prekey_id))));
    expect(hex(wrap.slice(5))).toBe(hex(concat(trace.enc!, trace.ct!)));
    expect(hex(await hpkeOpen(recipient, wrap.slice(5), info))).toBe(WRAP.content_key);
  });

  it.each<[string, Any]>(WRAP.negative.map((c: Any) => [c.name, c]))("wrap negative: %s", async (_n, c) => {
    const recipient = await x25519FromPrivate(H(WRAP.recipient_private));
    await refused(() => hpkeOpen(recipient, H(WRAP.wrap).slice(5), H(c.info)), c.error, c.message);
  });

  const chain = () => new ReceiverChain(SKIP.chain_id, SKIP.sender_device_id, 0, H(SKIP.chain_key_0), SKIP.created_ts, SKIP.epoch_seq);

  it("skipped-key eviction: the same keys are kept, dropped, opened or refused", async () => {
    const c = chain();
    for (const index of SKIP.received_indices) c.commit(c.derive(index, SKIP.received_at));
    const after = SKIP.after;
    const kept = [...c.skipped.keys()];
    expect([c.nextIndex, kept.length, Math.min(...kept), Math.max(...kept), c.droppedBelow]).toEqual([after.next_index, after.kept, after.lowest_kept, after.highest_kept, after.dropped_below]);
    for (const check of SKIP.checks) {
      if ("error" in check) await refused(() => c.derive(check.index, check.now_ms), check.error, check.message);
      else {
        const p = c.derive(check.index, check.now_ms);
        expect([hex(p.key), hex(p.nonce)]).toEqual([check.key, check.nonce]);
      }
    }
  });

  it("receiver chain record bytes, both ways, and the malformed record", async () => {
    const rec = SKIP.record;
    const skipped = new Map<number, [Uint8Array<ArrayBuffer>, number]>(Object.entries(rec.skipped).map(([i, v]: [string, Any]) => [Number(i), [H(v[0]), v[1]]]));
    const c = new ReceiverChain(SKIP.chain_id, SKIP.sender_device_id, rec.next_index, H(rec.chain_key), SKIP.created_ts, SKIP.epoch_seq, skipped, rec.dropped_below);
    expect(hex(c.toBytes())).toBe(rec.bytes);
    expect(hex(ReceiverChain.fromBytes(H(rec.bytes)).toBytes())).toBe(rec.bytes);
    for (const n of SKIP.record_negative) await refused(() => ReceiverChain.fromBytes(H(n.bytes)), n.error, n.message);
  });
});

describe("claim answers and member fingerprints", () => {
  it("parses a claim strictly: only requested devices, once each", async () => {
    const { parseClaim } = await import("../../src/crypto/prekeys");
    const dev = OTPK.device_id;
    const got = parseClaim([{ device_id: dev, one_time_prekey: OTPK.json }], [dev]);
    expect(got.get(dev)!.prekeyId).toBe(OTPK.prekey_id);
    expect(parseClaim([{ device_id: dev, one_time_prekey: null }], [dev]).size).toBe(0);
    await refused(() => parseClaim([{ device_id: dev, one_time_prekey: null }, { device_id: dev, one_time_prekey: null }], [dev]), "MalformedError", `claim.items[1]: device ${dev} was not asked for once`);
    await refused(() => parseClaim([{ device_id: dev, one_time_prekey: { ...OTPK.json, sig: "AA" } }], [dev]), "MalformedError", "claim.items[0].one_time_prekey.sig: expected 64 bytes, got 1");
    await refused(() => parseClaim({}, [dev]), "MalformedError", "claim: items must be a list");
  });

  it("checks a member key against the safety number or QR payload compared out of band", async () => {
    const { checkMemberFingerprint } = await import("../../src/crypto/invite");
    const { b64d } = await import("../../src/crypto/bytes");
    const v = vectors("trustlog.json").member_fingerprint;
    const key = b64d(v.member_key);
    checkMemberFingerprint(v.member_id, key, ` ${v.safety_number.replaceAll(" ", "  ")} `);
    checkMemberFingerprint(v.member_id, key, v.qr_payload);
    const other = key.slice();
    other[0]! ^= 1;
    await refused(() => checkMemberFingerprint(v.member_id, other, v.safety_number), "BindingError");
    await refused(() => checkMemberFingerprint(v.member_id, other, v.qr_payload), "BindingError");
  });
});
