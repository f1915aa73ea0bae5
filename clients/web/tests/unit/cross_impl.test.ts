/**
 * Cross-implementation: the real Python SDK (the repository's .venv, made by
 * `scripts/bootstrap.sh dev`) writes a keystore and seals envelopes that this client opens,
 * and opens what this client writes and seals.
 */

import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseEnvelope } from "../../src/crypto/envelope";
import { KeystoreData, KeystoreKey, openKeystore, openKeystoreKeepingKey, sealKeystore } from "../../src/crypto/keystore";
import { ContentType } from "../../src/crypto/labels";
import { signingKeyFromSeed, x25519FromPrivate } from "../../src/crypto/primitives";
import { ReceiverChain, SenderChain } from "../../src/crypto/ratchet";
import { decryptBody, openWrap, sealBroadcast, sealTargeted, verifyEnvelope } from "../../src/crypto/seal";
import { type Any, H, hex, REPO_ROOT, refused } from "./helpers";

const PYTHON = join(REPO_ROOT, ".venv/bin/python");
const SCRIPT = join(REPO_ROOT, "clients/web/tests/unit/cross_python.py");
const dir = mkdtempSync(join(tmpdir(), "cordon-web-cross-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function python(request: Record<string, unknown>): Any {
  const run = spawnSync(PYTHON, [SCRIPT], { input: JSON.stringify(request), cwd: REPO_ROOT, encoding: "utf8", timeout: 120_000 });
  if (run.status !== 0) throw new Error(`python failed (${run.status}): ${run.stderr || run.error}`);
  return JSON.parse(run.stdout);
}

const seed = (byte: number) => hex(new Uint8Array(32).fill(byte));
const DEVICE = "00000000-0000-4000-8000-0000000000d1";
const RECIPIENT = "00000000-0000-4000-8000-0000000000d2";
const GROUP = "00000000-0000-4000-8000-00000000c0de";
const CHAIN = "00000000-0000-4000-8000-00000000c4a1";

describe("keystore: Python ↔ browser", () => {
  it("a keystore the Python SDK wrote opens here, keys and secrets intact", async () => {
    const path = join(dir, "py.keystore");
    const made = python({ action: "make-keystore", path, passphrase: "correct horse ✓", device_id: DEVICE, device_seed: seed(1), member_seed: seed(2), now_ms: 1_700_000_000_000 });
    const data = await openKeystore(readFileSync(path, "utf8"), "correct horse ✓");
    expect(data.deviceId).toBe(DEVICE);
    expect(hex(data.signingKey.publicKey)).toBe(hex((await signingKeyFromSeed(H(seed(1)))).publicKey));
    expect(hex(data.memberKey!.publicKey)).toBe(hex((await signingKeyFromSeed(H(seed(2)))).publicKey));
    expect(hex(data.prekeys.get(1)!.pair.publicKey)).toBe(made.prekey_public);
    expect(data.signingKey.privateKey.extractable).toBe(false);
    expect(Object.fromEntries([...data.secrets].map(([k, v]) => [k, hex(v)]))).toEqual({ "log-tail:x": hex(new TextEncoder().encode("tail bytes")), "été": "0001" });
    expect(String(data)).not.toContain(seed(1).slice(0, 8));
    await refused(() => openKeystore(readFileSync(path, "utf8"), "wrong"), "WrongPassphraseError", "wrong passphrase (or the keystore was altered)");
    await refused(() => openKeystore("{not json", "x"), "KeystoreError", "keystore file is corrupt");
  });

  it("a keystore written here opens in the Python SDK", async () => {
    const data = await KeystoreData.create(DEVICE, true, { device: H(seed(3)), member: H(seed(4)) });
    const prekey = await data.rotatePrekeys(1_700_000_000_000);
    data.secrets.set("one-time-prekeys", new Uint8Array([9, 9]));
    const path = join(dir, "ts.keystore");
    writeFileSync(path, await sealKeystore(data, "pass phrase", 2 ** 14), { mode: 0o600 });
    chmodSync(path, 0o600);
    const seen = python({ action: "open-keystore", path, passphrase: "pass phrase" });
    expect(seen.device_id).toBe(DEVICE);
    expect(seen.signing_public).toBe(hex(data.signingKey.publicKey));
    expect(seen.member_public).toBe(hex(data.memberKey!.publicKey));
    expect(seen.prekeys).toEqual({ [String(prekey!.prekeyId)]: hex(prekey!.publicKey) });
    expect(seen.secrets).toEqual({ "one-time-prekeys": "0909" });
    // And it round-trips here.
    const again = await openKeystore(readFileSync(path, "utf8"), "pass phrase");
    expect(hex(again.serialise())).toBe(hex(data.serialise()));
  });
});

describe("keystore: the kept key of an unlocked session", () => {
  it("re-saves under the kept key open in the Python SDK, each with a fresh nonce, same salt and format", async () => {
    const data = await KeystoreData.create(DEVICE, true, { device: H(seed(3)), member: H(seed(4)) });
    const first = await sealKeystore(data, "pass phrase");
    const { data: opened, key } = await openKeystoreKeepingKey(first, "pass phrase");
    expect(String(key)).not.toContain(seed(3));
    opened.secrets.set("received-item", new Uint8Array([7]));
    const a = await key.seal(opened);
    const b = await key.seal(opened);
    const [da, db, d0] = [JSON.parse(a), JSON.parse(b), JSON.parse(first)];
    expect(Object.keys(da)).toEqual(["v", "kdf", "n", "r", "p", "salt", "nonce", "ciphertext"]);
    expect([da.salt, da.n, da.r, da.p]).toEqual([d0.salt, d0.n, d0.r, d0.p]);
    expect(new Set([da.nonce, db.nonce, d0.nonce]).size).toBe(3);
    const path = join(dir, "kept.keystore");
    writeFileSync(path, b, { mode: 0o600 });
    const seen = python({ action: "open-keystore", path, passphrase: "pass phrase" });
    expect(seen.secrets).toEqual({ "received-item": "07" });
    await refused(() => openKeystore(b, "wrong"), "WrongPassphraseError", "wrong passphrase (or the keystore was altered)");
  });

  it("after 100 saves under one kept key, the last opens with the passphrase holding every secret", async () => {
    const data = await KeystoreData.create(DEVICE, true, { device: H(seed(3)) });
    const key = await KeystoreKey.derive("pass phrase");
    let last = "";
    for (let i = 0; i < 100; i++) {
      data.secrets.set(`item-${i}`, new Uint8Array([i + 1]));
      last = await key.seal(data);
    }
    const secrets = (await openKeystore(last, "pass phrase")).secrets;
    for (let i = 0; i < 100; i++) expect(secrets.get(`item-${i}`)).toEqual(new Uint8Array([i + 1]));
  });
});

describe("envelopes: Python ↔ browser", () => {
  const prekeyPrivate = seed(7);
  const chainKey = seed(8);
  const common = { sender_seed: seed(5), sender_device_id: DEVICE, group_id: GROUP, epoch_id: seed(6), ts: 1_700_000_000_123, recipient_device_id: RECIPIENT, prekey_private: prekeyPrivate, chain_id: CHAIN, chain_key: chainKey };

  it("targeted and broadcast envelopes sealed by the Python SDK open here", async () => {
    const content = hex(new TextEncoder().encode("seizure at the border: 40 kg"));
    const sealed = python({ action: "seal", content, ...common });
    const sender = await signingKeyFromSeed(H(seed(5)));
    const targeted = parseEnvelope(H(sealed.targeted));
    await verifyEnvelope(targeted, sender.publicKey);
    const pair = await x25519FromPrivate(H(prekeyPrivate));
    const ck = await openWrap(targeted, RECIPIENT, (t, id) => (t === 1 && id === 5 ? pair : null));
    expect(hex(await decryptBody(targeted, ck))).toBe(content);
    const broadcast = parseEnvelope(H(sealed.broadcast));
    await verifyEnvelope(broadcast, sender.publicKey);
    const [chainId, index] = broadcast.broadcastPosition();
    expect([chainId, index]).toEqual([CHAIN, 7]);
    const p = new ReceiverChain(chainId, DEVICE, 7, H(chainKey), 0, 0).derive(index); // Python sealed from CK_7
    expect(hex(await decryptBody(broadcast, p.key, p.nonce))).toBe(content);
    // A flipped ciphertext byte is refused by the signature before any decryption.
    const tampered = H(sealed.broadcast);
    tampered[tampered.length - 80]! ^= 1;
    await refused(() => verifyEnvelope(parseEnvelope(tampered), sender.publicKey), "SignatureError", "envelope: signature does not verify");
  });

  it("targeted and broadcast envelopes sealed here open in the Python SDK", async () => {
    const content = new TextEncoder().encode("ports of Rotterdam and Antwerp: alert ✓");
    const sender = await signingKeyFromSeed(H(seed(5)));
    const pair = await x25519FromPrivate(H(prekeyPrivate));
    const args = { signingKey: sender, senderDeviceId: DEVICE, groupId: GROUP, epochId: H(seed(6)), contentType: ContentType.ALERT, content, ts: 1_700_000_000_456 };
    const targeted = await sealTargeted({ ...args, recipients: [{ deviceId: RECIPIENT, prekeyId: 5, publicKey: pair.publicKey }] });
    const chain = new SenderChain(CHAIN, DEVICE, 0, H(chainKey), 0, 0);
    await sealBroadcast({ ...args, chain }); // index 0
    const broadcast = await sealBroadcast({ ...args, chain }); // index 1: Python derives past a skipped key
    const opened = python({ action: "open", ...common, targeted: hex(targeted), broadcast: hex(broadcast) });
    expect(opened).toEqual({ targeted: hex(content), broadcast: hex(content), broadcast_index: 1 });
  });
});
