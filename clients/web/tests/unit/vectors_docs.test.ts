/** docs.json and stream.json: manifests, STREAM, document keys, history grants, templates, events. */

import { describe, expect, it } from "vitest";
import { checkGrant, checkGrantedEvent, checkManifest, checkNewKeys, eventSigningInput, openGrantedItem, verifyEvent, verifySignedTemplate } from "../../src/crypto/authority";
import { createManifest, decodeDocumentKeys, decryptDocument, decryptMetadata, documentKeyBytes, documentKeyFromBytes, encryptDocument, historyGrantBytes, historyGrantFromBytes, Manifest } from "../../src/crypto/documents";
import { label } from "../../src/crypto/encoding";
import { LogEntry } from "../../src/crypto/log";
import { sha256, signingKeyFromSeed } from "../../src/crypto/primitives";
import { type Roster, verifyLog } from "../../src/crypto/roster";
import { type Any, H, hex, refused, vectors } from "./helpers";

const V = vectors("docs.json");
const GROUP: string = V.group_id;
const key = (name: string) => signingKeyFromSeed(H(V.seeds[name]));
const roster = (): Promise<Roster> => {
  const entries = V.log.map((e: Any) => LogEntry.fromJson(e));
  return verifyLog(entries[0].signer, GROUP, entries);
};
const plaintext = (n: number) => Uint8Array.from({ length: n }, (_, i) => i % 251);

describe("docs.json", () => {
  it("labels are this implementation's", () => {
    expect(V.label_prefix).toBe(new TextDecoder().decode(label("x")).slice(0, -2));
  });

  it("manifest v2 bytes, STREAM ciphertext, and the reader's checks", async () => {
    const m = V.manifest;
    const manifest = await createManifest({
      docKey: H(m.doc_key),
      signingKey: await signingKeyFromSeed(H(m.uploader_device_seed)),
      groupId: GROUP,
      documentId: "00000000-0000-4000-8000-0000000002bc",
      version: 1,
      uploaderDeviceId: V.ids.coordinator[1],
      ts: m.ts,
      name: m.name,
      mediaType: m.media_type,
      category: m.category,
      epochId: H(m.epoch_id),
      noncePrefix: H(m.nonce_prefix),
    });
    expect(hex(manifest.signedBytes())).toBe(m.signed_input);
    expect(hex(manifest.keyCommitment)).toBe(m.key_commitment);
    expect(hex(manifest.encryptedMeta)).toBe(m.encrypted_meta);
    expect(hex(manifest.toBytes())).toBe(m.manifest);
    expect(hex(manifest.manifestHash())).toBe(m.manifest_hash);
    const ct = await encryptDocument(H(m.doc_key), manifest, plaintext(65636));
    expect(hex(sha256(ct))).toBe(m.ciphertext_sha256);
    expect(hex(await decryptDocument(H(m.doc_key), manifest, ct))).toBe(hex(plaintext(65636)));
    expect(await decryptMetadata(manifest, H(m.doc_key))).toEqual([m.name, m.media_type]);
    const dk = documentKeyFromBytes(H(m.document_key_content));
    expect((await checkManifest(await roster(), Manifest.fromBytes(H(m.manifest)), dk, "newsletter")).deviceId).toBe(V.ids.coordinator[1]);
    // A cut-off final segment and a flipped byte are refused.
    await refused(() => decryptDocument(H(m.doc_key), manifest, ct.slice(0, 65536 + 16)), "TruncatedError", "document is truncated: the final segment is missing");
    const flipped = ct.slice();
    flipped[10]! ^= 1;
    await refused(() => decryptDocument(H(m.doc_key), manifest, flipped), "DecryptionError", "document segment 0 failed authentication");
  });

  it("history and library grant bytes; a granted item and status event open", async () => {
    const h = V.history;
    const grant = historyGrantFromBytes(H(h.history_grant_content));
    expect(hex(historyGrantBytes(grant))).toBe(h.history_grant_content);
    expect([grant.memberId, grant.scope]).toEqual([h.member_id, h.scope]);
    const item = grant.items[0]!;
    expect([hex(item.itemKey), item.seq]).toEqual([h.item.item_key, h.item.seq]);
    const r = await roster();
    checkGrant(r, grant, h.member_id);
    const opened = await openGrantedItem(r, "cases", item, H(h.original_envelope));
    expect(hex(opened.content)).toBe(h.original_plaintext);
    expect(opened.device.deviceId).toBe(h.item.sender_device_id);
    const eventGrant = historyGrantFromBytes(H(h.status_event_item.grant_content));
    checkGrantedEvent("prenotifications", eventGrant.items[0]!, H(h.status_event_item.served_event));
    const keys = decodeDocumentKeys(H(h.library_grant_content));
    expect(keys.length).toBeGreaterThan(0);
    expect(keys[0]!.version).toBe(1);
    expect(hex(documentKeyBytes(keys[0]!)).length).toBeGreaterThan(0);
  });

  it("signed template and pre-notification status event", async () => {
    const t = V.template;
    const body = await verifySignedTemplate(t.document, GROUP, [(await key("coord-dev")).publicKey]);
    expect([body.id, body.version]).toEqual(["seizure-case", 2]);
    const e = V.prenotification_event;
    const ev = { groupId: GROUP, prenotificationId: e.prenotification_id, seq: e.seq, fromStatus: e.from, toStatus: e.to, ts: e.ts, detail: H(e.detail) };
    expect(hex(eventSigningInput(ev))).toBe(e.signing_input);
    await verifyEvent((await key("alice-dev")).publicKey, H(e.sig), ev);
  });

  async function run(v: Any): Promise<unknown> {
    const data = H(v.input);
    const late = V.ids.late[0];
    switch (v.construction) {
      case "manifest.parse":
        return Manifest.fromBytes(data);
      case "manifest.check":
        return checkManifest(await roster(), Manifest.fromBytes(data), documentKeyFromBytes(H(v.key)), v.server_category);
      case "document_key.parse":
        return documentKeyFromBytes(data);
      case "document_key.install": {
        const held = documentKeyFromBytes(H(v.held));
        return checkNewKeys(new Map([[`${held.documentId}/${held.version}`, held]]), [documentKeyFromBytes(data)]);
      }
      case "history_grant.parse":
        return historyGrantFromBytes(data);
      case "history_grant.check":
        return checkGrant(await roster(), historyGrantFromBytes(data), late);
      case "history_grant.open": {
        const g = historyGrantFromBytes(data);
        return openGrantedItem(await roster(), g.scope, g.items[0]!, H(v.envelope));
      }
      case "history_grant.event": {
        const g = historyGrantFromBytes(data);
        return checkGrantedEvent(g.scope, g.items[0]!, H(v.envelope));
      }
      case "template.verify":
        return verifySignedTemplate(JSON.parse(new TextDecoder().decode(data)), GROUP, [(await key("coord-dev")).publicKey]);
      case "event.verify": {
        const e = V.prenotification_event;
        return verifyEvent((await key("alice-dev")).publicKey, data, { groupId: GROUP, prenotificationId: e.prenotification_id, seq: e.seq, fromStatus: e.from, toStatus: v.to ?? e.to, ts: e.ts, detail: H(v.detail ?? e.detail) });
      }
      default:
        throw new Error(`unknown construction ${v.construction}`);
    }
  }

  it.each<[string, Any]>(V.negative.map((v: Any) => [v.name, v]))("negative: %s", async (_n, v) => {
    await refused(() => run(v), v.error, v.message);
  });
});

describe("stream.json", () => {
  it("the document encrypts to the recorded ciphertext and decrypts back", async () => {
    const v = vectors("stream.json");
    const manifest = Manifest.fromBytes(H(v.manifest));
    expect(hex(manifest.manifestHash())).toBe(v.manifest_hash);
    const data = plaintext(64 * 1024 + 100);
    const ct = await encryptDocument(H(v.doc_key), manifest, data);
    expect(hex(sha256(ct))).toBe(v.ciphertext_sha256);
    expect(hex(ct.slice(-200))).toBe(v.ciphertext_tail);
    expect(hex(sha256(await decryptDocument(H(v.doc_key), manifest, ct)))).toBe(v.plaintext_sha256);
  });
});

describe("STREAM, incrementally", () => {
  it("chunks of any size give the recorded ciphertext, and decrypt back chunk by chunk", async () => {
    const { StreamEncryptor, StreamDecryptor } = await import("../../src/crypto/documents");
    const v = vectors("stream.json");
    const manifest = Manifest.fromBytes(H(v.manifest));
    const data = plaintext(64 * 1024 + 100);
    const enc = new StreamEncryptor(H(v.doc_key), manifest);
    const parts: Uint8Array[] = [];
    for (let pos = 0; pos < data.length; pos += 10_007) parts.push(await enc.update(data.subarray(pos, pos + 10_007)));
    parts.push(await enc.finalize());
    const ct = Uint8Array.from(parts.flatMap((p) => [...p]));
    expect(hex(sha256(ct))).toBe(v.ciphertext_sha256);
    const dec = new StreamDecryptor(H(v.doc_key), manifest);
    const out: Uint8Array[] = [];
    for (let pos = 0; pos < ct.length; pos += 4_099) out.push(await dec.update(ct.subarray(pos, pos + 4_099)));
    out.push(await dec.finalize());
    expect(hex(sha256(Uint8Array.from(out.flatMap((p) => [...p]))))).toBe(v.plaintext_sha256);
  });
});
