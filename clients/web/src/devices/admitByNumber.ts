/**
 * The fallback to an invitation (PROTOCOL §3.6), as the SDK's `add_member(…,
 * member_fingerprint=…)` / CLI `cordon group add GROUP USER --fingerprint …`: the coordinator
 * compares the member's safety number (or scans its QR payload) out of band and certifies the
 * member key the server's directory lists only if it is the key that number names.
 *
 * The directory lists keys of the group's members only, so a user not yet a member on the
 * server is added there first; if their key then does not match, that membership is taken
 * back and nothing is signed.
 */
import { ApiError } from "../api/client";
import { authed } from "../auth/session";
import { b64d, b64e, checkMemberFingerprint, LogWriter, TrustError } from "../crypto";
import { roster } from "../feed/engine";
import type { Vault } from "../feed/vault";
import { coordinatorSigner, LOG_ROLES } from "../groups/admin";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A user id for a username or full id: the group's members and join requests, then the
 * users the server lets this user see (`find_user`). A name only: the log decides the rest. */
export async function findUser(groupId: string, who: string): Promise<string> {
  const wanted = who.trim();
  if (UUID.test(wanted)) return wanted.toLowerCase();
  const members = await authed<{ user_id: string; username?: string | null }[]>("GET", `/groups/${groupId}/members`);
  const inGroup = members.find((m) => m.username === wanted);
  if (inGroup) return inGroup.user_id;
  let cursor: string | null = null;
  do {
    const page: { items: { id: string; username: string }[]; next_cursor: string | null } = await authed("GET", `/users?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    const found = page.items.find((u) => u.username === wanted);
    if (found) return found.id;
    cursor = page.next_cursor;
  } while (cursor);
  throw new TrustError(`no user ${wanted} is known to you: check the username`);
}

async function directoryKey(groupId: string, userId: string): Promise<Uint8Array | null> {
  const keys = await authed<{ user_id: string; member_key: string }[]>("GET", `/groups/${groupId}/member-keys`);
  const found = keys.find((k) => k.user_id === userId);
  return found ? b64d(found.member_key, 32, "member_key") : null;
}

async function joinOnServer(groupId: string, userId: string, role: string): Promise<boolean> {
  try {
    await authed("POST", `/groups/${groupId}/members`, { body: { user_id: userId, role } });
    return true;
  } catch (error) {
    if (error instanceof ApiError && error.code === "group.already_member") return false;
    throw error;
  }
}

/** Certify `who`'s member key in the signed log if it matches the safety number compared. */
export async function admitByNumber(vault: Vault, groupId: string, me: string, who: string, compared: string, role: (typeof LOG_ROLES)[number] = "member"): Promise<string> {
  const userId = await findUser(groupId, who);
  const verified = await roster(vault, groupId);
  if (verified.members.has(userId)) throw new TrustError(`${who.trim()} is already certified in this group's signed log`);
  const signer = await coordinatorSigner(vault, verified, me);
  if (!signer) throw new TrustError("this device holds no coordinator key for this group");
  let key = await directoryKey(groupId, userId);
  let added = false;
  if (!key) {
    added = await joinOnServer(groupId, userId, role);
    key = await directoryKey(groupId, userId);
  }
  try {
    if (!key) throw new TrustError("that user has not published a member key yet (they must log in once)");
    checkMemberFingerprint(userId, key, compared);
  } catch (error) {
    if (added) await authed("DELETE", `/groups/${groupId}/members/${userId}`);
    throw error;
  }
  if (!added) await joinOnServer(groupId, userId, role);
  const writer = new LogWriter(groupId, [...verified.entries]);
  const entry = await writer.append(signer, "add_member", { member_id: userId, member_key: b64e(key), role }, Date.now());
  await authed("POST", `/groups/${groupId}/log`, { body: { entry: entry.toJson() } });
  await roster(vault, groupId);
  return userId;
}
