/**
 * The library's REST calls (`/api/v1/groups/{id}/library`, `/api/v1/library`), as the Python
 * SDK's `library/client.py` makes them. JSON goes through `authed`; segment bodies and the
 * ciphertext stream need raw bytes, so those two use `fetch` with the same bearer token and
 * the same `ApiError` on a refusal.
 */
import { API_BASE, ApiError, errorFromResponse, NetworkError } from "../api/client";
import { authed, session } from "../auth/session";
import { b64d, Manifest } from "../crypto";

export const TAG = 16;

interface VersionJson {
  document_id: string;
  version: number;
  size: number;
  segment_size: number;
  segment_count: number;
  sha256: string;
  manifest: string;
  publisher_device_id: string | null;
  published_at: string;
}

interface DocumentJson {
  id: string;
  category: string;
  latest_version: number;
  published_at: string;
  withdrawn: boolean;
  latest: VersionJson | null;
}

/** A published version as the server describes it: the manifest is parsed, not yet verified. */
export interface RemoteVersion {
  documentId: string;
  version: number;
  size: number;
  segmentSize: number;
  segmentCount: number;
  sha256: Uint8Array;
  manifest: Manifest;
  publisherDeviceId: string | null;
  publishedAt: string;
  /** The file's size: the ciphertext less one tag per segment. */
  plainSize: number;
}

export interface RemoteDocument {
  id: string;
  category: string;
  latestVersion: number;
  publishedAt: string;
  withdrawn: boolean;
  latest: RemoteVersion | null;
}

function version(v: VersionJson): RemoteVersion {
  return {
    documentId: v.document_id,
    version: v.version,
    size: v.size,
    segmentSize: v.segment_size,
    segmentCount: v.segment_count,
    sha256: b64d(v.sha256, 32, "sha256"),
    manifest: Manifest.fromBytes(b64d(v.manifest, undefined, "manifest")),
    publisherDeviceId: v.publisher_device_id,
    publishedAt: v.published_at,
    plainSize: v.size - TAG * v.segment_count,
  };
}

const document = (d: DocumentJson): RemoteDocument => ({
  id: d.id,
  category: d.category,
  latestVersion: d.latest_version,
  publishedAt: d.published_at,
  withdrawn: d.withdrawn,
  latest: d.latest ? version(d.latest) : null,
});

const base = (groupId: string) => `/groups/${groupId}/library`;

/** Every document of the group (one category, or all), newest publication first. */
export async function listDocuments(groupId: string, category: string | null): Promise<RemoteDocument[]> {
  const found: RemoteDocument[] = [];
  let cursor: string | null = null;
  do {
    const query = new URLSearchParams({ limit: "200" });
    if (category) query.set("category", category);
    if (cursor) query.set("cursor", cursor);
    const page: { items: DocumentJson[]; next_cursor: string | null } = await authed("GET", `${base(groupId)}/documents?${query}`);
    found.push(...page.items.map(document));
    cursor = page.next_cursor;
  } while (cursor);
  return found;
}

export const getDocument = async (groupId: string, documentId: string) => document(await authed<DocumentJson>("GET", `${base(groupId)}/documents/${documentId}`));

export const listVersions = async (groupId: string, documentId: string) => (await authed<VersionJson[]>("GET", `${base(groupId)}/documents/${documentId}/versions`)).map(version);

export const getVersion = async (groupId: string, documentId: string, v: number) => version(await authed<VersionJson>("GET", `${base(groupId)}/documents/${documentId}/versions/${v}`));

export const withdraw = (groupId: string, documentId: string) => authed<unknown>("POST", `${base(groupId)}/documents/${documentId}/withdraw`);

export interface UploadCreate {
  document_id: string;
  version: number;
  category: string;
  segment_size: number;
  segment_count: number;
  size: number;
  manifest: string;
}

export const createUpload = (groupId: string, body: UploadCreate) => authed<{ id: string }>("POST", `${base(groupId)}/uploads`, { body });

/** The segment indexes the server holds for an open upload (`library.upload_not_found` once gone). */
export async function received(uploadId: string): Promise<Set<number>> {
  const data = await authed<{ received: [number, number][] }>("GET", `/library/uploads/${uploadId}`);
  const have = new Set<number>();
  for (const [start, end] of data.received) for (let i = start; i < end; i++) have.add(i);
  return have;
}

export const finalise = (uploadId: string, segmentCount: number, sha256: string) => authed<VersionJson>("POST", `/library/uploads/${uploadId}/finalise`, { body: { segment_count: segmentCount, sha256 } });

export async function abortUpload(uploadId: string): Promise<void> {
  try {
    await authed<void>("DELETE", `/library/uploads/${uploadId}`);
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 404) throw error;
  }
}

/** A bearer-token request whose body or answer is raw bytes. */
async function raw(method: string, path: string, init: { body?: Blob; headers?: Record<string, string> } = {}): Promise<Response> {
  const token = session.value?.token;
  if (!token) throw new ApiError(401, "auth.invalid_token", "not logged in");
  let response: Response;
  try {
    response = await fetch(API_BASE + path, {
      method,
      headers: { Authorization: `Bearer ${token}`, ...init.headers },
      body: init.body ?? null,
      credentials: "omit",
      cache: "no-store",
    });
  } catch (error) {
    throw new NetworkError(error);
  }
  if (!response.ok) throw await errorFromResponse(response);
  return response;
}

/** PUT segments `first…` sent back to back in one body (idempotent: a retry of the same bytes is fine). */
export async function putSegments(uploadId: string, first: number, segments: Uint8Array[]): Promise<void> {
  await raw("PUT", `/library/segments/${uploadId}/${first}?count=${segments.length}`, {
    body: new Blob(segments as BlobPart[], { type: "application/octet-stream" }),
  });
}

/** The ciphertext of a version as a stream (read as it arrives, never whole). */
export async function content(groupId: string, documentId: string, v: number): Promise<ReadableStream<Uint8Array>> {
  const response = await raw("GET", `${base(groupId)}/documents/${documentId}/versions/${v}/content`);
  if (!response.body) throw new NetworkError("no body");
  return response.body;
}
