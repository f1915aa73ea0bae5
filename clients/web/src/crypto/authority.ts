/**
 * Who held which role at a given log head: the checks behind document keys, manifests and
 * history grants (PROTOCOL.md §8.3, §9.1), as `crypto/authority.py`; signed templates and
 * pre-notification status events (§12).
 */

import { b64d, b64e, type Bytes, ctEqual, equal, uuidBytes } from "./bytes";
import { canonicalJson } from "./canonical";
import { sigInput } from "./encoding";
import { CategoryMismatchError, CryptoError, DocumentKeyConflictError, EpochMismatchError, HistoryGrantError, SignatureError, TemplateSignatureError, UnauthorisedKeyingError } from "./errors";
import { BROADCAST, parseEnvelope, TARGETED } from "./envelope";
import { BROADCAST_ITEM_KEY, checkKeyCommitment, type DocumentKey, type GrantedItem, type HistoryGrant, type Manifest, TARGETED_ITEM_KEY, verifyManifest } from "./documents";
import { ContentType } from "./labels";
import { sha256, sha256Large, verifyEd25519 } from "./primitives";
import type { Device, Roster } from "./roster";
import { decryptBody, verifyEnvelope } from "./seal";

const OPEN = Number.MAX_SAFE_INTEGER;
export const SCOPE_CONTENT: Record<string, [number, ReadonlySet<number>]> = {
  cases: [BROADCAST, new Set([ContentType.ALERT, ContentType.MESSAGE])],
  prenotifications: [TARGETED, new Set([ContentType.PRENOTIFICATION])],
};

interface Timeline {
  devices: Map<string, [number, number, string, Bytes][]>;
  roles: Map<string, [number, string | null][]>;
}

const timelines = new WeakMap<Roster, Timeline>();

function timeline(roster: Roster): Timeline {
  const found = timelines.get(roster);
  if (found) return found;
  const t: Timeline = { devices: new Map(), roles: new Map() };
  const live = new Map<string, string[]>();
  for (const e of roster.entries) {
    const member = e.body.member_id;
    if (member === undefined) continue;
    if (e.op === "add_member" || e.op === "set_role") {
      t.roles.set(member, [...(t.roles.get(member) ?? []), [e.seq, e.body.role!]]);
    } else if (e.op === "remove_member") {
      t.roles.set(member, [...(t.roles.get(member) ?? []), [e.seq, null]]);
      for (const d of live.get(member) ?? []) t.devices.get(d)!.at(-1)![1] = e.seq;
      live.delete(member);
    } else if (e.op === "add_device") {
      const d = e.body.device_id!;
      t.devices.set(d, [...(t.devices.get(d) ?? []), [e.seq, OPEN, member, b64d(e.body.device_key, 32)]]);
      live.set(member, [...(live.get(member) ?? []), d]);
    } else if (e.op === "revoke_device") {
      const d = e.body.device_id!;
      t.devices.get(d)!.at(-1)![1] = e.seq;
      live.set(member, (live.get(member) ?? []).filter((x) => x !== d));
    }
  }
  timelines.set(roster, t);
  return t;
}

/** The device and its member's role at the head `epochId`, or null if it was not certified there. */
export function deviceAt(roster: Roster, deviceId: string, epochId: Uint8Array): [Device, string] | null {
  const seq = roster.epochSeq(epochId);
  if (seq === null) throw new EpochMismatchError("names a log head this device has not verified");
  const t = timeline(roster);
  for (const [start, end, member, key] of t.devices.get(deviceId) ?? []) {
    if (start <= seq && seq < end) {
      let role: string | null = null;
      for (const [at, value] of t.roles.get(member) ?? []) if (at <= seq) role = value;
      return role ? [{ deviceId, memberId: member, signingKey: key }, role] : null;
    }
  }
  return null;
}

export function coordinatorDeviceAt(roster: Roster, deviceId: string, epochId: Uint8Array, what: string): Device {
  const found = deviceAt(roster, deviceId, epochId);
  if (!found) throw new UnauthorisedKeyingError(`${what}: device ${deviceId} was not certified in the log at the head it names`);
  const [device, role] = found;
  if (role !== "coordinator") throw new UnauthorisedKeyingError(`${what}: device ${deviceId} belonged to a ${role}, not a coordinator, at that head`);
  return device;
}

/** Everything a reader checks before decrypting a document version (§8.1 "Opening"). */
export async function checkManifest(roster: Roster, m: Manifest, key: DocumentKey, category: string | null = null): Promise<Device> {
  const what = `manifest of document ${m.documentId} version ${m.version}`;
  if (m.groupId !== roster.groupId) throw new UnauthorisedKeyingError(`${what}: sealed for group ${m.groupId}`);
  const device = coordinatorDeviceAt(roster, m.uploaderDeviceId, m.epochId, what);
  await verifyManifest(m, device.signingKey);
  if (key.documentId !== m.documentId || key.version !== m.version) throw new DocumentKeyConflictError(`${what}: the key held is for document ${key.documentId} version ${key.version}`);
  if (!ctEqual(key.manifestHash, m.manifestHash())) throw new DocumentKeyConflictError(`${what}: the key held was issued for another manifest`);
  checkKeyCommitment(m, key.key);
  if (category !== null && category !== m.category) throw new CategoryMismatchError(`${what}: the server lists category '${category}', the manifest signs '${m.category}'`);
  return device;
}

/** A key for a (document, version) is fixed once held; the whole batch is refused on a conflict. */
export function checkNewKeys(held: ReadonlyMap<string, DocumentKey>, keys: readonly DocumentKey[]): void {
  const seen = new Map<string, DocumentKey>();
  for (const k of keys) {
    const slot = `${k.documentId}/${k.version}`;
    const earlier = held.get(slot) ?? seen.get(slot);
    if (earlier && (!ctEqual(earlier.key, k.key) || !equal(earlier.manifestHash, k.manifestHash))) {
      throw new DocumentKeyConflictError(`document ${k.documentId} version ${k.version} already has a different key on this device; the new one is refused`);
    }
    seen.set(slot, k);
  }
}

export function checkGrantSender(roster: Roster, sender: Device, memberId: string): void {
  const role = roster.members.get(sender.memberId)?.role;
  if (role !== "coordinator") throw new HistoryGrantError(`history grant from device ${sender.deviceId} of a ${role}, not a coordinator`);
  const scopes = [...(roster.members.get(memberId)?.historyScopes ?? [])].filter((s) => s in SCOPE_CONTENT);
  if (!scopes.length) throw new HistoryGrantError("history grant, but the log holds no history grant for you");
}

export function checkGrant(roster: Roster, grant: HistoryGrant, memberId: string): void {
  if (grant.memberId !== memberId) throw new HistoryGrantError(`history grant is for member ${grant.memberId}, not you`);
  if (!roster.members.get(memberId)?.historyScopes.has(grant.scope)) throw new HistoryGrantError(`history grant for scope '${grant.scope}', which the log does not grant you`);
}

export function checkGrantedEvent(scope: string, item: GrantedItem, served: Uint8Array): void {
  const what = `granted item seq ${item.seq}`;
  if (scope !== "prenotifications") throw new HistoryGrantError(`${what}: a status event is not in scope ${scope}`);
  if (!equal(sha256(served), item.envelopeHash)) throw new HistoryGrantError(`${what}: the served status event is not the one granted`);
}

/** Verify an earlier item against its grant and its ORIGINAL sender's key, then decrypt it. */
export async function openGrantedItem(roster: Roster, scope: string, item: GrantedItem, envelope: Uint8Array): Promise<{ senderDeviceId: string; device: Device; content: Bytes }> {
  const what = `granted item seq ${item.seq}`;
  if (!equal(await sha256Large(envelope), item.envelopeHash)) throw new HistoryGrantError(`${what}: the served envelope is not the one granted`);
  let env;
  try {
    env = parseEnvelope(envelope);
  } catch (e) {
    if (e instanceof CryptoError) throw new HistoryGrantError(`${what}: ${e.message}`);
    throw e;
  }
  const h = env.header;
  if (h.groupId !== roster.groupId) throw new HistoryGrantError(`${what}: the envelope is for another group`);
  if (h.senderDeviceId !== item.senderDeviceId || h.messageId !== item.messageId) throw new HistoryGrantError(`${what}: sender device or message id differs from the grant`);
  const [kind, types] = SCOPE_CONTENT[scope]!;
  if (h.kind !== kind || !types.has(h.contentType)) throw new HistoryGrantError(`${what}: content type ${h.contentType} is not in scope ${scope}`);
  let found;
  try {
    found = deviceAt(roster, h.senderDeviceId, h.epochId);
  } catch (e) {
    if (e instanceof EpochMismatchError) throw new HistoryGrantError(`${what}: names a log head this device has not verified`);
    throw e;
  }
  if (!found) throw new HistoryGrantError(`${what}: sender device ${h.senderDeviceId} was not in the log at that head`);
  const device = found[0];
  try {
    await verifyEnvelope(env, device.signingKey);
    let content: Bytes;
    if (kind === BROADCAST) {
      if (item.itemKey.length !== BROADCAST_ITEM_KEY) throw new HistoryGrantError(`${what}: a broadcast needs a 44-byte key and nonce`);
      content = await decryptBody(env, item.itemKey.slice(0, 32), item.itemKey.slice(32));
    } else {
      if (item.itemKey.length !== TARGETED_ITEM_KEY) throw new HistoryGrantError(`${what}: a targeted envelope needs a 32-byte key`);
      content = await decryptBody(env, item.itemKey);
    }
    return { senderDeviceId: h.senderDeviceId, device, content };
  } catch (e) {
    if (e instanceof HistoryGrantError) throw e;
    if (e instanceof CryptoError) throw new HistoryGrantError(`${what}: ${e.message}`);
    throw e;
  }
}

// ---- §12 templates and status events ------------------------------------------------------

const SIGNED_FIELDS = ["group_id", "sig", "signer", "template", "template_id", "ts", "v", "version"];

function templateB64(text: unknown, length: number, what: string): Bytes {
  if (typeof text !== "string" || text.includes("=")) throw new TemplateSignatureError(`signed template: ${what} must be unpadded base64url`);
  let raw: Bytes;
  try {
    raw = b64d(text);
  } catch {
    throw new TemplateSignatureError(`signed template: ${what} is not base64url`);
  }
  if (raw.length !== length || b64e(raw) !== text) throw new TemplateSignatureError(`signed template: ${what} must be ${length} bytes`);
  return raw;
}

export function templateSigningInput(t: { groupId: string; templateId: string; version: number; ts: number; bodyHash: Uint8Array; signer: Uint8Array }): Bytes {
  return sigInput("template", 1, uuidBytes(t.groupId), t.templateId, t.version, t.ts, t.bodyHash, t.signer);
}

/**
 * The template body inside a signed document, if its signer is trusted and the signature holds
 * (signature layer of `templates/registry.py: verify_signed_template`; form validation is the UI's).
 */
export async function verifySignedTemplate(doc: unknown, groupId: string, trustedKeys: readonly Uint8Array[]): Promise<Record<string, unknown>> {
  const d = doc as Record<string, unknown>;
  if (typeof doc !== "object" || doc === null || Object.keys(d).length !== 8 || !SIGNED_FIELDS.every((f) => Object.hasOwn(d, f))) {
    throw new TemplateSignatureError(`signed template: needs exactly [${SIGNED_FIELDS.map((f) => `'${f}'`).join(", ")}]`);
  }
  if (d.v !== 1) throw new TemplateSignatureError("signed template: unsupported version");
  if (d.group_id !== groupId) throw new TemplateSignatureError("signed template: published for another group");
  const ts = d.ts;
  if (typeof ts !== "number" || !Number.isSafeInteger(ts) || ts < 0) throw new TemplateSignatureError("signed template: ts must be a non-negative integer");
  const signer = templateB64(d.signer, 32, "signer");
  const sig = templateB64(d.sig, 64, "sig");
  if (!trustedKeys.some((k) => equal(k, signer))) throw new TemplateSignatureError("signed template: the signer is not a coordinator key");
  const body = d.template as Record<string, unknown>;
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw new TemplateSignatureError("signed template: template must be an object");
  if (body.id !== d.template_id || body.version !== d.version || typeof body.id !== "string" || typeof body.version !== "number") {
    throw new TemplateSignatureError("signed template: id or version differs from its body");
  }
  const message = templateSigningInput({ groupId, templateId: body.id, version: body.version, ts, bodyHash: sha256(canonicalJson(body)), signer });
  if (!(await verifyEd25519(signer, sig, message))) throw new TemplateSignatureError("signed template: signature does not verify");
  return body;
}

export interface StatusEvent {
  groupId: string;
  prenotificationId: string;
  seq: number;
  fromStatus: string;
  toStatus: string;
  ts: number;
  /** The detail envelope's bytes, or null (then `detail_hash` is the empty string). */
  detail: Uint8Array | null;
}

export function eventSigningInput(e: StatusEvent): Bytes {
  const detailHash = e.detail !== null ? sha256(e.detail) : new Uint8Array();
  return sigInput("prenotification-event", uuidBytes(e.groupId), uuidBytes(e.prenotificationId), e.seq, e.fromStatus, e.toStatus, e.ts, detailHash);
}

export async function verifyEvent(deviceKey: Uint8Array, signature: Uint8Array, e: StatusEvent): Promise<void> {
  if (!(await verifyEd25519(deviceKey, signature, eventSigningInput(e)))) throw new SignatureError("status event: signature does not verify");
}
