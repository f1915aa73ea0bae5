/** envelope_v2.json, envelope.json and ratchet.json: the v2 wire formats byte for byte. */

import { describe, expect, it } from "vitest";
import { canonicalJson, parseCanonicalJson, parseJson } from "../../src/crypto/canonical";
import { BROADCAST, encodeHeader, pad, parseEnvelope, receiptSigningInput, routingMismatch, TARGETED, unpad, wrapBytes, wrapInfo } from "../../src/crypto/envelope";
import { labelsEqual, makeLabels, type MessageRef } from "../../src/crypto/labels";
import { sha256, signingKeyFromSeed, verifyEd25519, x25519FromPrivate } from "../../src/crypto/primitives";
import { chainStep, messageKey, ReceiverChain, SenderChain } from "../../src/crypto/ratchet";
import { decryptBody, hpkeOpen, openWrap, sealBroadcast, sealTargeted, verifyEnvelope } from "../../src/crypto/seal";
import { type Any, H, hex, refused, vectors } from "./helpers";
import { sealBaseTrace } from "./hpke_reference";

const V = vectors("envelope_v2.json");
const senderKey = () => signingKeyFromSeed(H(V.sender_device_seed));

function labels(raw: Any) {
  const ref = (p: string[] | null): MessageRef | null => (p ? { senderDeviceId: p[0]!, messageId: p[1]! } : null);
  return makeLabels({ urgent: raw.urgent, replyTo: ref(raw.reply_to), reviewOf: ref(raw.review_of), roles: raw.roles, category: raw.category });
}

describe("envelope_v2.json", () => {
  it.each<[string, Any]>(V.envelopes.map((v: Any) => [v.name, v]))("%s parses, verifies, re-encodes and opens", async (_n, v: Any) => {
    const env = parseEnvelope(H(v.envelope));
    const h = env.header;
    expect([h.kind, h.contentType, h.groupId]).toEqual([v.kind, v.content_type, V.group_id]);
    expect(labelsEqual(h.labels, labels(v.labels))).toBe(true);
    const again = encodeHeader({ kind: h.kind, contentType: h.contentType, groupId: h.groupId, epochId: H(V.epoch_id), senderDeviceId: h.senderDeviceId, messageId: h.messageId, ts: h.ts, recipients: h.recipients, labels: labels(v.labels) });
    expect(hex(again)).toBe(hex(h.raw));
    const key = await senderKey();
    expect(await verifyEd25519(key.publicKey, env.signature, await env.signingInput())).toBe(true);
    if (v.kind === BROADCAST) {
      const [chainId, index] = env.broadcastPosition();
      const chain = new ReceiverChain(chainId, h.senderDeviceId, index, H(v.chain_key_at_index_3), 0, 0);
      const p = chain.derive(index);
      expect(hex(await decryptBody(env, p.key, p.nonce))).toBe(v.content);
      // Sealing again from the same chain state reproduces the envelope byte for byte.
      const sender = new SenderChain(chainId, h.senderDeviceId, index, H(v.chain_key_at_index_3), 0, 0);
      const sealed = await sealBroadcast({ signingKey: key, senderDeviceId: h.senderDeviceId, groupId: h.groupId, epochId: h.epochId, contentType: h.contentType, content: H(v.content), ts: h.ts, messageId: h.messageId, labels: h.labels, chain: sender });
      expect(hex(sealed)).toBe(v.envelope);
      return;
    }
    if (v.header) expect(hex(h.raw)).toBe(v.header);
    for (const w of v.wraps) {
      const pair = await x25519FromPrivate(H(w.prekey_private));
      const ck = await openWrap(env, w.device_id, (t, i) => (t === w.prekey_type && i === w.prekey_id ? pair : null));
      expect(hex(ck)).toBe(v.content_key);
      expect(hex(await decryptBody(env, ck))).toBe(v.content);
    }
    // With the recorded content key and ephemeral keys the whole envelope is reproduced.
    const recipients = await Promise.all(v.wraps.map(async (w: Any) => ({ deviceId: w.device_id, prekeyId: w.prekey_id, prekeyType: w.prekey_type, publicKey: (await x25519FromPrivate(H(w.prekey_private))).publicKey })));
    const sealed = await sealTargeted({ signingKey: key, senderDeviceId: h.senderDeviceId, groupId: h.groupId, epochId: h.epochId, contentType: h.contentType, content: H(v.content), ts: h.ts, messageId: h.messageId, labels: h.labels, recipients, contentKey: H(v.content_key), ephemeralKeys: v.wraps.map((w: Any) => H(w.ephemeral_private)) });
    expect(hex(sealed)).toBe(v.envelope);
  });

  it.each<[string, Any]>(V.envelopes.filter((v: Any) => v.kind === TARGETED).map((v: Any) => [v.name, v]))("%s: every HPKE intermediate value", async (_n, v: Any) => {
    const env = parseEnvelope(H(v.envelope));
    for (const w of v.wraps) {
      const info = wrapInfo(sha256(env.header.raw), w.device_id, w.prekey_type, w.prekey_id);
      expect(hex(info)).toBe(w.info);
      const pair = await x25519FromPrivate(H(w.prekey_private));
      const trace = await sealBaseTrace(pair.publicKey, H(w.ephemeral_private), info, H(v.content_key));
      for (const [name, value] of Object.entries(trace)) expect([name, hex(value)]).toEqual([name, w[name]]);
      const wrap = env.wrapFor(w.device_id)!;
      expect(hex(wrapBytes(wrap))).toBe(hex(Uint8Array.from([w.prekey_type])) + w.prekey_id.toString(16).padStart(8, "0") + w.enc + w.ct);
      expect(hex(await hpkeOpen(pair, Uint8Array.from([...wrap.enc, ...wrap.ct]), info))).toBe(v.content_key);
    }
  });

  it.each<[string, Any]>(V.negative_envelopes.map((v: Any) => [v.name, v]))("negative: %s", async (_n, v: Any) => {
    if (v.error === "signature") {
      const env = parseEnvelope(H(v.envelope));
      await refused(async () => verifyEnvelope(env, (await senderKey()).publicKey), "SignatureError", "envelope: signature does not verify");
      return;
    }
    const expected = v.error.startsWith("envelope: version") ? "UnsupportedVersionError" : "MalformedError";
    await refused(() => parseEnvelope(H(v.envelope)), expected, v.error);
  });

  it("canonical JSON: positives and every refusal", async () => {
    const cj = V.canonical_json;
    for (const v of cj.positive) {
      const canon = canonicalJson(parseJson(v.input));
      expect(hex(canon)).toBe(v.canonical_hex);
      expect(hex(canonicalJson(parseCanonicalJson(canon)))).toBe(v.canonical_hex);
    }
    for (const v of cj.encode_negative) await refused(() => canonicalJson(parseJson(v.input)), "MalformedError", v.error);
    for (const v of cj.parse_negative) await refused(() => parseCanonicalJson(new TextEncoder().encode(v.input)), "MalformedError", v.error);
    expect([cj.encode_negative.length, cj.parse_negative.length]).toEqual([5, 5]);
  });

  it("canonical JSON of values built in JavaScript", () => {
    expect(new TextDecoder().decode(canonicalJson({ "\u{1F600}": 1, "\uff5e": 2, b: [-0, "\u007f\u0001"] }))).toBe('{"b":[0,"\u007f\\u0001"],"\uff5e":2,"\u{1F600}":1}');
  });

  it("padding buckets and refusals", async () => {
    for (const v of V.padding.positive) {
      const padded = pad(new Uint8Array(v.content_length));
      expect([padded.length, hex(padded.slice(0, 8))]).toEqual([v.padded_size, v.first_bytes]);
      expect(unpad(padded).length).toBe(v.content_length);
    }
    for (const v of V.padding.negative) await refused(() => unpad(H(v.padded)), "MalformedError", v.error);
  });

  it("signed receipt", async () => {
    const r = V.receipt;
    const item = { senderDeviceId: r.item[0], messageId: r.item[1] };
    const signed = receiptSigningInput({ groupId: r.group_id, item, deviceId: r.device_id, status: r.status, ts: r.ts });
    expect(hex(signed)).toBe(r.signing_input);
    expect(await verifyEd25519(H(r.device_public), H(r.sig), signed)).toBe(true);
    expect(hex((await signingKeyFromSeed(H(r.device_private_seed))).publicKey)).toBe(r.device_public);
    for (const v of r.negative) expect(await verifyEd25519(H(r.device_public), H(r.sig), H(v.signing_input))).toBe(v.verifies);
    await refused(() => receiptSigningInput({ groupId: r.group_id, item, deviceId: r.device_id, status: "seen", ts: r.ts }), "MalformedError", "receipt.status: 'seen' is not delivered or read");
  });

  it("routing copy checks give the recorded answers", () => {
    const headers = Object.fromEntries(V.envelopes.map((v: Any) => [v.name, parseEnvelope(H(v.envelope)).header]));
    for (const v of V.routing) {
      const parent = v.parent ? { senderDeviceId: v.parent[0], messageId: v.parent[1] } : null;
      expect(routingMismatch(headers[v.envelope], { kind: v.kind, urgent: v.urgent, parent, hasParent: v.has_parent })).toBe(v.problem);
    }
    expect(V.routing.filter((v: Any) => v.problem !== null).length).toBe(5);
  });
});

describe("envelope.json and ratchet.json", () => {
  const E = vectors("envelope.json");
  const R = vectors("ratchet.json");

  it("ratchet chain keys, message keys and nonces", () => {
    let ck = H(R.steps[0].ck);
    for (const step of R.steps) {
      expect(hex(ck)).toBe(step.ck);
      const [mk, next] = chainStep(ck);
      const [key, nonce] = messageKey(mk, R.chain_id, step.index);
      expect([hex(mk), hex(key), hex(nonce)]).toEqual([step.mk, step.key, step.nonce]);
      ck = next;
    }
  });

  it("the deterministic broadcast re-seals byte for byte and opens", async () => {
    const b = E.broadcast;
    const dev = await signingKeyFromSeed(H(E.sender_device_seed));
    const env = parseEnvelope(H(b.envelope));
    const h = env.header;
    const chain = new SenderChain(b.chain_id, h.senderDeviceId, b.index, H(b.chain_key_at_index_3), 0, 0);
    const again = await sealBroadcast({ signingKey: dev, senderDeviceId: h.senderDeviceId, groupId: h.groupId, epochId: h.epochId, contentType: h.contentType, content: H(b.plaintext), chain, ts: h.ts, messageId: h.messageId });
    expect(hex(again)).toBe(b.envelope);
    await verifyEnvelope(env, dev.publicKey);
    const p = new ReceiverChain(b.chain_id, h.senderDeviceId, b.index, H(b.chain_key_at_index_3), 0, 0).derive(b.index);
    expect(hex(await decryptBody(env, p.key, p.nonce))).toBe(b.plaintext);
  });

  it("the recorded targeted envelope opens with the fixed prekey", async () => {
    const t = E.targeted;
    const env = parseEnvelope(H(t.envelope));
    await verifyEnvelope(env, (await signingKeyFromSeed(H(E.sender_device_seed))).publicKey);
    const pair = await x25519FromPrivate(H(t.prekey_private));
    const key = await openWrap(env, t.recipient_device_id, (kt, id) => (kt === 1 && id === t.prekey_id ? pair : null));
    expect(hex(await decryptBody(env, key))).toBe(t.plaintext);
    await refused(() => openWrap(env, t.recipient_device_id, () => null), "KeyUnavailableError", `prekey ${t.prekey_id} is unknown or already deleted`);
  });
});
