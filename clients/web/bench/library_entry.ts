/**
 * The library's per-file crypto in a page (run by `CORDON_BENCH_ENTRY=library_entry.ts node
 * bench/web_crypto_chromium.mjs`): what publishing and downloading a 16 MiB file cost the
 * browser beside the ceilings they stand on (AES-256-GCM per 1 MiB segment, SHA-256). A
 * publish encrypts and hashes the file and hashes the ciphertext; a download decrypts and
 * hashes the ciphertext. No network here: the browser tests cover that.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { createManifest, MAX_SEGMENT, StreamDecryptor, StreamEncryptor } from "../src/crypto/documents";
import { randomBytes } from "../src/crypto/bytes";
import { aesGcmEncrypt, signingKeyFromSeed } from "../src/crypto/primitives";

const SIZE = 16 * 1024 * 1024;
const RUNS = 7;

async function measure(name: string, fn: () => Promise<unknown>) {
  const walls: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    await fn();
    walls.push((performance.now() - t0) * 1000);
  }
  walls.sort((a, b) => a - b);
  return { name, runs: RUNS, p50_us: walls[Math.floor(RUNS / 2)]!, p99_us: walls[RUNS - 1]! };
}

(globalThis as unknown as { cordonBench: () => Promise<unknown> }).cordonBench = async () => {
  const file = new Blob([randomBytes(SIZE / 2), randomBytes(SIZE / 2)]);
  const docKey = randomBytes(32);
  const manifest = await createManifest({
    docKey,
    signingKey: await signingKeyFromSeed(new Uint8Array(32).fill(7), false),
    groupId: "00000000-0000-4000-8000-0000000000be",
    documentId: "00000000-0000-4000-8000-0000000000d1",
    version: 1,
    uploaderDeviceId: "00000000-0000-4000-8000-0000000000b1",
    ts: 1_700_000_000_000,
    name: "bench.bin",
    mediaType: "application/octet-stream",
    segmentSize: MAX_SEGMENT,
  });
  const sealed: Uint8Array[] = [];
  const encryptAll = async (keep: boolean) => {
    const enc = new StreamEncryptor(docKey, manifest);
    const digest = sha256.create();
    for (let at = 0; at < SIZE; at += MAX_SEGMENT) {
      const out = await enc.update(new Uint8Array(await file.slice(at, at + MAX_SEGMENT).arrayBuffer()));
      if (out.length) {
        digest.update(out);
        if (keep) sealed.push(out);
      }
    }
    const last = await enc.finalize();
    digest.update(last);
    if (keep) sealed.push(last);
    return digest.digest();
  };
  await encryptAll(true);
  const key = randomBytes(32);
  const nonce = new Uint8Array(12);
  const plainSegment = randomBytes(MAX_SEGMENT);
  return [
    await measure("publish side: read 16 MiB from a Blob, STREAM-encrypt (1 MiB segments), SHA-256 the ciphertext", () => encryptAll(false)),
    await measure("download side: STREAM-decrypt 16 MiB, SHA-256 the ciphertext, into a Blob", async () => {
      const dec = new StreamDecryptor(docKey, manifest);
      const digest = sha256.create();
      const parts: Uint8Array[] = [];
      for (const s of sealed) {
        digest.update(s);
        parts.push(await dec.update(s));
      }
      parts.push(await dec.finalize());
      return new Blob(parts as BlobPart[]).size;
    }),
    await measure("ceiling: AES-256-GCM encrypt, 16 × 1 MiB (WebCrypto, key import each)", async () => {
      for (let i = 0; i < 16; i++) await aesGcmEncrypt(key, nonce, plainSegment, manifest.manifestHash());
    }),
    await measure("ceiling: SHA-256 of 16 MiB (@noble/hashes, incremental)", async () => {
      const digest = sha256.create();
      for (let i = 0; i < 16; i++) digest.update(plainSegment);
      return digest.digest();
    }),
    await measure("ceiling: SHA-256 of 16 MiB (WebCrypto, one call)", async () => crypto.subtle.digest("SHA-256", new Uint8Array(await file.arrayBuffer()))),
  ];
};
