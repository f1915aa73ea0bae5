/**
 * Download, verify and decrypt one document version (PROTOCOL.md §8.1 "Opening", §8.2), as the
 * SDK's `LibraryClient.download`: the manifest must be signed by a device that belonged to a
 * coordinator at the head it names, match the key that reached this device end to end and the
 * server's category; then the ciphertext is decrypted as it streams in, segment by segment.
 * Decrypted segments go into a Blob as they verify (Chromium's blob store, which pages large
 * blobs to disk, not the script's heap) and the file is offered only once the final segment
 * authenticates and the whole ciphertext hashes to the version's SHA-256: a tampered,
 * truncated or reordered document is never offered.
 */
import { sha256 as sha256Hasher } from "@noble/hashes/sha2.js";
import { checkManifest, ctEqual, decryptMetadata, type DocumentKey, DecryptionError, KeyUnavailableError, MalformedError, StreamDecryptor } from "../crypto";
import type { GroupChannel } from "../feed/engine";
import { content, getDocument, getVersion, type RemoteVersion } from "./api";

/** Decrypted segments are handed to the blob store in runs of about this many bytes. */
const FLUSH_BYTES = 8 * 1024 * 1024;

export interface Opened {
  name: string;
  mediaType: string;
}

export interface Downloaded extends Opened {
  blob: Blob;
}

/** The key this device holds for a version, if it reached it. */
export function heldKey(channel: GroupChannel, documentId: string, version: number): DocumentKey | null {
  return channel.session.documentKeys.get(`${documentId}/${version}`) ?? null;
}

/** Every check before a byte is decrypted; then the name and type the manifest seals. */
export async function openManifest(channel: GroupChannel, remote: RemoteVersion, key: DocumentKey, category: string | null): Promise<Opened> {
  const m = remote.manifest;
  if (m.groupId !== channel.groupId || m.documentId !== remote.documentId || m.version !== remote.version) throw new MalformedError("the manifest is for another document version");
  await checkManifest(channel.session.roster, m, key, category);
  const [name, mediaType] = await decryptMetadata(m, key.key);
  return { name, mediaType };
}

export async function download(channel: GroupChannel, documentId: string, version: number, progress: (done: number, total: number) => void): Promise<Downloaded> {
  await channel.refresh();
  const key = heldKey(channel, documentId, version);
  if (!key) throw new KeyUnavailableError("no key for this document on this device");
  const remote = await getVersion(channel.groupId, documentId, version);
  const doc = await getDocument(channel.groupId, documentId);
  const opened = await openManifest(channel, remote, key, doc.category);
  const decryptor = new StreamDecryptor(key.key, remote.manifest);
  const digest = sha256Hasher.create();
  const reader = (await content(channel.groupId, documentId, version)).getReader();
  let blob = new Blob([]);
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let done = 0;
  const keep = (plain: Uint8Array) => {
    if (!plain.length) return;
    pending.push(plain);
    pendingBytes += plain.length;
    done += plain.length;
    progress(done, remote.plainSize);
    if (pendingBytes >= FLUSH_BYTES) {
      blob = new Blob([blob, ...(pending as BlobPart[])]);
      pending = [];
      pendingBytes = 0;
    }
  };
  try {
    for (;;) {
      const { done: ended, value } = await reader.read();
      if (ended) break;
      digest.update(value);
      keep(await decryptor.update(value));
    }
    keep(await decryptor.finalize());
  } catch (error) {
    await reader.cancel().catch(() => undefined); // refused: stop fetching the rest
    throw error;
  } finally {
    reader.releaseLock();
  }
  if (!ctEqual(digest.digest(), remote.sha256)) throw new DecryptionError("the document's segments verified but the whole does not hash to the version's SHA-256");
  return { ...opened, blob: new Blob([blob, ...(pending as BlobPart[])], { type: opened.mediaType }) };
}
