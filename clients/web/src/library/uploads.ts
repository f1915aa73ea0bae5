/**
 * Publishing a file from the browser, resumable across a page reload, as the SDK's
 * `library/resume.py` does it: what a later visit needs (upload id, signed manifest, document
 * key, the file's SHA-256, its name and size) is one named secret of the passphrase-sealed
 * keystore in IndexedDB, never a clear record; the file itself is never stored. After a
 * reload the member chooses the same file again; a file whose SHA-256 matches an open upload
 * continues it, and only segments the server acknowledged are skipped (asked of the server,
 * never remembered). The file is read, encrypted and sent one STREAM segment at a time, so
 * memory holds about one segment whatever the file's size.
 */
import { sha256 as sha256Hasher } from "@noble/hashes/sha2.js";
import { ApiError } from "../api/client";
import { authed } from "../auth/session";
import { b64d, b64e, b64StdEncode, ContentType, createManifest, type DocumentKey, documentKeyBytes, fromUtf8, Manifest, MAX_SEGMENT, parseEnvelope, randomBytes, StreamEncryptor, UntrustedSenderError, utf8 } from "../crypto";
import type { GroupChannel } from "../feed/engine";
import { abortUpload, createUpload, finalise, getVersion, putSegments, received, TAG } from "./api";

const PREFIX = "web-upload:";
/** Segments per PUT: one, so the bar moves per MiB and a reload loses at most one segment. */
const SEGMENTS_PER_PUT = 1;
const HASH_CHUNK = 1024 * 1024;

/** An open upload as the keystore keeps it between visits. */
export interface UploadRecord {
  name: string;
  groupId: string;
  uploadId: string;
  fileName: string;
  fileSize: number;
  fileSha256: string;
  manifest: string;
  docKey: string;
}

export type Progress = (done: number, total: number) => void;
export type Notice = (what: "resumed" | "gone" | "published_already", values?: Record<string, string>) => void;

const recordName = (groupId: string, uploadId: string) => `${PREFIX}${groupId}:${uploadId}`;

/** The open uploads of a group this keystore remembers. */
export function pendingUploads(channel: GroupChannel): UploadRecord[] {
  const out: UploadRecord[] = [];
  for (const [name, raw] of channel.vault.data.secrets) {
    if (!name.startsWith(`${PREFIX}${channel.groupId}:`)) continue;
    out.push({ ...(JSON.parse(fromUtf8(raw)) as Omit<UploadRecord, "name">), name });
  }
  return out;
}

/** How many STREAM segments the recorded upload has. */
export const segmentCount = (record: UploadRecord) => layout(record.fileSize, Manifest.fromBytes(b64d(record.manifest, undefined, "manifest")).segmentSize).count;

async function forget(channel: GroupChannel, record: UploadRecord): Promise<void> {
  channel.vault.data.secrets.delete(record.name);
  await channel.vault.save();
}

/** Give up an open upload: the server deletes its segments, the keystore its record. */
export async function abandon(channel: GroupChannel, record: UploadRecord): Promise<void> {
  await abortUpload(record.uploadId);
  await forget(channel, record);
}

/** The file's SHA-256, read a chunk at a time (what tells the same file from an edited one). */
export async function fileSha256(file: Blob): Promise<string> {
  const digest = sha256Hasher.create();
  for (let at = 0; at < file.size; at += HASH_CHUNK) digest.update(new Uint8Array(await file.slice(at, at + HASH_CHUNK).arrayBuffer()));
  return b64e(digest.digest());
}

const layout = (plain: number, segment: number) => {
  const count = Math.max(1, Math.ceil(plain / segment));
  return { count, size: plain + TAG * count };
};

interface Pending {
  record: UploadRecord;
  manifest: Manifest;
  key: DocumentKey;
}

function pendingOf(record: UploadRecord): Pending {
  const manifest = Manifest.fromBytes(b64d(record.manifest, undefined, "manifest"));
  return { record, manifest, key: { documentId: manifest.documentId, version: manifest.version, key: b64d(record.docKey, 32, "doc_key"), manifestHash: manifest.manifestHash() } };
}

export interface PublishRequest {
  file: File;
  /** A new document's category; a new version keeps its document's. */
  category: string;
  documentId?: string;
  version?: number;
}

/** Only a coordinator in the signed log may key a document: readers refuse anyone else's. */
export function mayPublish(channel: GroupChannel): boolean {
  const roster = channel.session.roster;
  return roster.members.get(roster.device(channel.vault.deviceId)?.memberId ?? "")?.role === "coordinator";
}

/**
 * Encrypt, upload and publish the file (or continue its interrupted upload), then send its
 * key to every verified device of the group as a DOCUMENT_KEY envelope.
 */
export async function publish(channel: GroupChannel, request: PublishRequest, progress: Progress, notice: Notice): Promise<DocumentKey> {
  await channel.refresh();
  if (!mayPublish(channel)) throw new UntrustedSenderError("only a coordinator in the signed log may publish: readers refuse documents keyed by anyone else");
  const sha = await fileSha256(request.file);
  // The same publication: the same file, as the same new version, or as a new document of the same category.
  const wanted = (r: UploadRecord) => {
    const { key, manifest } = pendingOf(r);
    return r.fileSha256 === sha && (request.documentId ? key.documentId === request.documentId && key.version === (request.version ?? 1) : key.version === 1 && manifest.category === request.category);
  };
  const earlier = pendingUploads(channel).find(wanted);
  let pending: Pending | null = null;
  let have = new Set<number>();
  if (earlier) {
    const candidate = pendingOf(earlier);
    const done = await publishedAlready(channel.groupId, candidate);
    if (done) {
      notice("published_already");
      return finish(channel, candidate);
    }
    try {
      have = await received(earlier.uploadId);
      pending = candidate;
      notice("resumed", { have: String(have.size), total: String(layout(request.file.size, candidate.manifest.segmentSize).count) });
    } catch (error) {
      if (!(error instanceof ApiError) || error.status >= 500) throw error;
      notice("gone", { code: error.code });
      await forget(channel, earlier);
    }
  }
  pending ??= await prepare(channel, request, sha);
  await send(pending, request.file, have, progress);
  return finish(channel, pending);
}

async function publishedAlready(groupId: string, p: Pending): Promise<boolean> {
  try {
    const remote = await getVersion(groupId, p.key.documentId, p.key.version);
    return b64e(remote.manifest.manifestHash()) === b64e(p.key.manifestHash);
  } catch (error) {
    if (error instanceof ApiError && error.status < 500) return false;
    throw error;
  }
}

/** A fresh key and signed manifest, the upload opened, its record sealed before any segment. */
async function prepare(channel: GroupChannel, request: PublishRequest, sha: string): Promise<Pending> {
  const vault = channel.vault;
  const documentId = request.documentId ?? crypto.randomUUID();
  const version = request.version ?? 1;
  const docKey = randomBytes(32);
  const manifest = await createManifest({
    docKey,
    signingKey: vault.data.signingKey,
    groupId: channel.groupId,
    documentId,
    version,
    uploaderDeviceId: vault.deviceId,
    ts: Date.now(),
    name: request.file.name,
    mediaType: request.file.type || "application/octet-stream",
    category: request.category,
    epochId: channel.session.roster.epochId,
    segmentSize: MAX_SEGMENT,
  });
  const { count, size } = layout(request.file.size, MAX_SEGMENT);
  const opened = await createUpload(channel.groupId, { document_id: documentId, version, category: request.category, segment_size: MAX_SEGMENT, segment_count: count, size, manifest: b64e(manifest.toBytes()) });
  const record: UploadRecord = {
    name: recordName(channel.groupId, opened.id),
    groupId: channel.groupId,
    uploadId: opened.id,
    fileName: request.file.name,
    fileSize: request.file.size,
    fileSha256: sha,
    manifest: b64e(manifest.toBytes()),
    docKey: b64e(docKey),
  };
  const { name: _name, ...stored } = record;
  vault.data.secrets.set(record.name, utf8(JSON.stringify(stored)));
  await vault.save(); // before the first segment: a reload from here on can resume
  return { record, manifest, key: { documentId, version, key: docKey, manifestHash: manifest.manifestHash() } };
}

/**
 * Read, encrypt and hash the file one segment at a time, PUT those the server lacks, then
 * finalise with the whole ciphertext's SHA-256 (STREAM is deterministic for a key and
 * manifest, so segments already on the server are re-encrypted only to be hashed).
 */
async function send(p: Pending, file: Blob, have: ReadonlySet<number>, progress: Progress): Promise<void> {
  const segment = p.manifest.segmentSize;
  const { count } = layout(file.size, segment);
  if (file.size !== p.record.fileSize) throw new RangeError("the file changed size since its upload was prepared");
  const encryptor = new StreamEncryptor(p.key.key, p.manifest);
  const digest = sha256Hasher.create();
  let index = 0;
  let done = 0;
  let batch: Uint8Array[] = [];
  let first = 0;
  const flush = async () => {
    if (batch.length) await putSegments(p.record.uploadId, first, batch);
    batch = [];
  };
  const handle = async (sealed: Uint8Array) => {
    digest.update(sealed);
    if (!have.has(index)) {
      if (!batch.length) first = index;
      batch.push(sealed);
      if (batch.length >= SEGMENTS_PER_PUT) await flush();
    } else await flush();
    done += sealed.length - TAG;
    progress(done, file.size);
    index++;
  };
  progress(0, file.size);
  for (let at = 0; at < file.size; at += segment) {
    const sealed = await encryptor.update(new Uint8Array(await file.slice(at, at + segment).arrayBuffer()));
    if (sealed.length) await handle(sealed);
  }
  await handle(await encryptor.finalize());
  await flush();
  if (index !== count) throw new RangeError("the file changed size since its upload was prepared");
  await finalise(p.record.uploadId, count, b64e(digest.digest()));
}

/**
 * The key held here, sent to the group's other devices, and the record dropped; between two
 * received items (`GroupChannel.exclusive`), so the session stored is never ahead of the live
 * feed's stored cursor.
 */
function finish(channel: GroupChannel, p: Pending): Promise<DocumentKey> {
  return channel.exclusive(() => distributeKey(channel, p));
}

async function distributeKey(channel: GroupChannel, p: Pending): Promise<DocumentKey> {
  const session = channel.session;
  session.documentKeys.set(`${p.key.documentId}/${p.key.version}`, p.key);
  await channel.persist();
  const signed = await channel.signedPrekeys();
  const now = Date.now();
  const others = session.roster.devices().filter((d) => d.deviceId !== channel.vault.deviceId && signed.has(d.deviceId)).map((d) => d.deviceId);
  const selection = await channel.recipientsFor(others, signed, now);
  if (selection.recipients.length) {
    const envelope = await session.encryptTargeted(ContentType.DOCUMENT_KEY, documentKeyBytes(p.key), selection.recipients, now);
    await channel.persist();
    await authed("POST", `/groups/${channel.groupId}/messages`, {
      body: { kind: "library", client_msg_id: parseEnvelope(envelope).header.messageId, envelope: b64StdEncode(envelope), recipients: selection.recipients.map((r) => r.deviceId) },
    });
  }
  await forget(channel, p.record);
  return p.key;
}
