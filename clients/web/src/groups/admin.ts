/**
 * A coordinator's work from the browser, through the signed trust log exactly as the Python
 * SDK does it (`cordon_client/groups/client.py`): every change is signed on top of a log this
 * device verified to its head (never on the server's word), member keys enter only bound by
 * an invitation this device issued (join MAC checked), and the server is told afterwards.
 *
 * Signer: the root key when this device opened the log (`root-key:<group>`, the SDK's name),
 * else this device's member key when the verified log makes its member a coordinator (both
 * are coordinator keys, PROTOCOL §4.2).
 */
import { ApiError } from "../api/client";
import { authed } from "../auth/session";
import { b64d, b64e, BindingError, canonicalJson, checkJoinMac, equal, fromUtf8, INVITATION_TTL_MS, Invitation, LogWriter, randomBytes, type Roster, sha256, sign, type SigningKey, signingKeyFromSeed, templateSigningInput, TrustError, utf8 } from "../crypto";
import { roster } from "../feed/engine";
import type { Vault } from "../feed/vault";

const rootKeyName = (g: string) => `root-key:${g}`;
const rootPin = (g: string) => `root-pin:${g}`;
const inviteName = (g: string, id: Uint8Array) => `invite:${g}:${b64e(id)}`;

export const GROUP_STATUSES = ["planned", "active", "closed", "archived"] as const;
/** Which status a group may move to next (the server's `TRANSITIONS`). */
export const NEXT_STATUS: Record<string, readonly string[]> = { planned: ["active", "closed"], active: ["closed"], closed: ["active", "archived"], archived: [] };
export const LOG_ROLES = ["coordinator", "member"] as const;

/** The coordinator key this device may sign with in this group, or null. */
export async function coordinatorSigner(vault: Vault, verified: Roster, userId: string): Promise<SigningKey | null> {
  const seed = vault.data.secrets.get(rootKeyName(verified.groupId));
  if (seed) return signingKeyFromSeed(seed, false);
  const me = verified.members.get(userId);
  const key = vault.data.memberKey;
  if (me?.role === "coordinator" && key && equal(me.memberKey, key.publicKey)) return key;
  return null;
}

/** Whether the group's log is still to be opened (no genesis served). */
export async function logOpened(groupId: string): Promise<boolean> {
  const page = await authed<{ items: unknown[] }>("GET", `/groups/${groupId}/log?after_seq=-1&limit=1`);
  return page.items.length > 0;
}

/** As the group's coordinator: make its root, certify yourself and this device (`open_group_log`). */
export async function openLog(vault: Vault, groupId: string, userId: string): Promise<void> {
  const member = vault.data.memberKey;
  if (!member) throw new TrustError("this device does not hold your member key");
  const seed = randomBytes(32);
  const root = await signingKeyFromSeed(seed, false);
  const writer = new LogWriter(groupId);
  const now = Date.now();
  const entries = [await writer.genesis(root, now), await writer.addMember(root, userId, member.publicKey, "coordinator", now), await writer.addDevice(member, userId, vault.deviceId, vault.data.signingKey.publicKey, now)];
  // The root's private half is stored before anything it signed leaves this device.
  vault.data.secrets.set(rootKeyName(groupId), seed);
  vault.data.secrets.set(rootPin(groupId), root.publicKey);
  await vault.save();
  for (const entry of entries) await authed("POST", `/groups/${groupId}/log`, { body: { entry: entry.toJson() } });
  await roster(vault, groupId);
}

/** Sign one coordinator op on top of the verified head and post it; the new verified roster. */
async function appendSigned(vault: Vault, groupId: string, userId: string, op: string, body: Record<string, string>): Promise<Roster> {
  const verified = await roster(vault, groupId);
  const signer = await coordinatorSigner(vault, verified, userId);
  if (!signer) throw new TrustError("this device holds no coordinator key for this group");
  const writer = new LogWriter(groupId, [...verified.entries]);
  const entry = await writer.append(signer, op, body, Date.now());
  await authed("POST", `/groups/${groupId}/log`, { body: { entry: entry.toJson() } });
  return roster(vault, groupId);
}

interface IssuedRecord {
  text: string;
  created_ts: number;
  for_user: string | null;
}

/** One invitation for one member, its secret kept in this keystore only (`invite`). */
export async function invite(vault: Vault, groupId: string, forUser: string | null): Promise<string> {
  const root = vault.data.secrets.get(rootPin(groupId));
  if (!root) throw new TrustError("no trust root pinned for this group");
  const invitation = Invitation.create(groupId, root);
  const record: IssuedRecord = { text: invitation.toText(), created_ts: Date.now(), for_user: forUser };
  vault.data.secrets.set(inviteName(groupId, invitation.invitationId), utf8(JSON.stringify(record)));
  await vault.save();
  await authed("POST", `/groups/${groupId}/invitations`, { body: { invitation_id: b64e(invitation.invitationId), ttl_hours: 336 } });
  return invitation.toText();
}

export interface JoinRequest {
  invitation_id: string;
  user_id: string;
  username: string;
  member_key: string;
  mac: string;
  created_at: string;
}

export const joinRequests = (groupId: string) => authed<JoinRequest[]>("GET", `/groups/${groupId}/join-requests`);

/** The member key of a join request, only if it answers an invitation this device issued,
 * for that user, in time, with a MAC over the served user id and key (`_bound_join_request`). */
function boundKey(vault: Vault, groupId: string, request: JoinRequest): { key: Uint8Array; invitationId: Uint8Array } {
  const invitationId = b64d(request.invitation_id, 16, "join request invitation_id");
  const raw = vault.data.secrets.get(inviteName(groupId, invitationId));
  if (!raw) throw new BindingError(`the join request from ${request.username} answers an invitation this device did not issue`);
  const issued = JSON.parse(fromUtf8(raw)) as IssuedRecord;
  if (issued.for_user !== null && issued.for_user !== request.username) throw new BindingError(`the invitation answered by ${request.username} was issued for ${issued.for_user}`);
  if (Date.now() - issued.created_ts > INVITATION_TTL_MS) throw new BindingError(`the invitation ${request.username} answered has expired`);
  const key = b64d(request.member_key, 32, "join request member_key");
  checkJoinMac(Invitation.fromText(issued.text), request.user_id, key, b64d(request.mac, 32, "join request mac"));
  return { key, invitationId };
}

/** Admit one join request: server membership, then `add_member` signed in the log, then
 * the invitation closed and its secret forgotten (`add_member` with an invitation). */
export async function admit(vault: Vault, groupId: string, userId: string, request: JoinRequest, role: (typeof LOG_ROLES)[number] = "member"): Promise<void> {
  const { key, invitationId } = boundKey(vault, groupId, request);
  try {
    await authed("POST", `/groups/${groupId}/members`, { body: { user_id: request.user_id, role } });
  } catch (error) {
    if (!(error instanceof ApiError && error.code === "group.already_member")) throw error;
  }
  await appendSigned(vault, groupId, userId, "add_member", { member_id: request.user_id, member_key: b64e(key), role });
  await authed("DELETE", `/groups/${groupId}/invitations/${b64e(invitationId)}`);
  vault.data.secrets.delete(inviteName(groupId, invitationId));
  await vault.save();
}

/** Change a member's role: signed `set_role` first, then the server's record. */
export async function setRole(vault: Vault, groupId: string, userId: string, memberId: string, role: (typeof LOG_ROLES)[number]): Promise<void> {
  await appendSigned(vault, groupId, userId, "set_role", { member_id: memberId, role });
  await authed("PATCH", `/groups/${groupId}/members/${memberId}`, { body: { role } });
}

/** Remove in the signed log first (no new keys reach them), then on the server (`remove_member`). */
export async function removeMember(vault: Vault, groupId: string, userId: string, memberId: string): Promise<void> {
  await appendSigned(vault, groupId, userId, "remove_member", { member_id: memberId });
  await authed("DELETE", `/groups/${groupId}/members/${memberId}`);
}

/** Log `grant_history(member, scope)` once (PROTOCOL §9.1); the verified roster after it. */
export async function logHistoryGrant(vault: Vault, groupId: string, userId: string, memberId: string, scope: string): Promise<Roster> {
  const verified = await roster(vault, groupId);
  if (verified.members.get(memberId)?.historyScopes.has(scope)) return verified;
  return appendSigned(vault, groupId, userId, "grant_history", { member_id: memberId, scope });
}

export const setStatus = (groupId: string, status: string) => authed("POST", `/groups/${groupId}/status`, { body: { status } });

/** A template body signed by this device's key (`sign_template`); the server stores only a
 * document signed by the publishing device, members check it against the verified roster. */
export async function publishTemplate(vault: Vault, groupId: string, text: string): Promise<{ id: string; version: number }> {
  const body = JSON.parse(text) as unknown;
  if (!body || typeof body !== "object" || Array.isArray(body)) throw new TypeError("template");
  const { id, version } = body as { id?: unknown; version?: unknown };
  if (typeof id !== "string" || typeof version !== "number" || !Number.isSafeInteger(version) || version < 1) throw new TypeError("template");
  const signer = vault.data.signingKey;
  const ts = Date.now();
  const message = templateSigningInput({ groupId, templateId: id, version, ts, bodyHash: sha256(canonicalJson(body)), signer: signer.publicKey });
  const document = { v: 1, group_id: groupId, template_id: id, version, ts, template: body, signer: b64e(signer.publicKey), sig: b64e(await sign(signer, message)) };
  await authed("POST", `/groups/${groupId}/templates`, { body: { document } });
  return { id, version };
}

export interface PublishedTemplate {
  template_id: string;
  version: number;
}
export const templates = (groupId: string) => authed<{ builtins: PublishedTemplate[]; items: PublishedTemplate[] }>("GET", `/groups/${groupId}/templates`);
