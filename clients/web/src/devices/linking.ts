/**
 * Devices and key verification (PROTOCOL §3.4, §3.6, §3.7), mirroring the Python SDK's
 * `GroupsClient.link_code`, `certify_device` and `join_group(expected_fingerprint=…)`:
 * the device holding the member key certifies a new device only for the signing key its
 * link code commits to, and a new device pins a group's root only when the fingerprint (or
 * QR payload) compared out of band matches the root the server serves.
 */
import { authed } from "../auth/session";
import { b64d, BindingError, checkLinkCode, fingerprint, LogEntry, LogWriter, linkCode, memberQrPayload, memberSafetyNumber, parseLinkCode, qrPayload, QR_PREFIX, rootMatchesQr, TrustError } from "../crypto";
import { listGroups, roster } from "../feed/engine";
import type { Vault } from "../feed/vault";

const rootPin = (g: string) => `root-pin:${g}`;
/** Set once this device's history reached the new device in a group, so a re-entered link code still sends it if it did not. */
const transferredName = (g: string, device: string) => `history-transferred:${g}:${device}`;

/** This device's link code (shown on the new device, typed or scanned on the first one). */
export const myLinkCode = (vault: Vault, userId: string): string => linkCode(userId, vault.deviceId, vault.data.signingKey.publicKey);

/** The member key's safety number and QR payload, or null on a device without it. */
export function mySafetyNumber(vault: Vault, userId: string): { digits: string; qr: string } | null {
  const key = vault.data.memberKey;
  if (!key) return null;
  return { digits: memberSafetyNumber(userId, key.publicKey), qr: memberQrPayload(userId, key.publicKey) };
}

/** The pinned root's fingerprint digits and QR payload for a group, if pinned. */
export function rootCodes(vault: Vault, groupId: string): { digits: string; qr: string } | null {
  const root = vault.data.secrets.get(rootPin(groupId));
  return root ? { digits: fingerprint(groupId, root), qr: qrPayload(groupId, root) } : null;
}

const normalise = (digits: string) => digits.trim().split(/\s+/).join(" ");

/** Whether what was compared out of band (60 digits or the QR payload) names this root. */
export function matchesRoot(groupId: string, root: Uint8Array, compared: string): boolean {
  const text = compared.trim();
  if (text.startsWith(QR_PREFIX)) return rootMatchesQr(text, groupId, root);
  return normalise(text) === fingerprint(groupId, root);
}

/** Compare the pinned root with what another device or the coordinator shows. */
export function comparePinned(vault: Vault, groupId: string, compared: string): boolean {
  const root = vault.data.secrets.get(rootPin(groupId));
  if (!root) throw new TrustError("no trust root pinned for this group");
  return matchesRoot(groupId, root, compared);
}

/**
 * A device without an invitation (a linked device) pins the group's root: the root the
 * genesis entry names must match the fingerprint compared with the first device; then the
 * whole log is verified from it (as `join_group(expected_fingerprint)`).
 */
export async function pinByFingerprint(vault: Vault, groupId: string, compared: string): Promise<void> {
  const page = await authed<{ items: { entry: unknown }[] }>("GET", `/groups/${groupId}/log?after_seq=-1&limit=1`);
  const first = page.items[0];
  if (!first) throw new TrustError("the group's log has not been opened by its coordinator yet");
  const genesis = LogEntry.fromJson(first.entry);
  if (genesis.op !== "genesis") throw new TrustError("the group's log does not start with its genesis entry");
  const root = b64d(genesis.body.root_key, 32, "genesis root_key");
  if (!matchesRoot(groupId, root, compared)) throw new BindingError("the group's root key does not match the fingerprint you were given");
  const pinned = vault.data.secrets.get(rootPin(groupId));
  if (pinned && !matchesRoot(groupId, pinned, qrPayload(groupId, root))) throw new TrustError("the group's root key changed since you pinned it");
  vault.data.secrets.set(rootPin(groupId), root);
  try {
    await roster(vault, groupId);
  } catch (error) {
    if (!pinned) vault.data.secrets.delete(rootPin(groupId));
    throw error;
  }
  await vault.save();
}

/**
 * From the device holding the member key: certify the device whose link code was entered in
 * one group, only for the signing key the code commits to (the server's key is a candidate).
 */
export async function certifyDevice(vault: Vault, groupId: string, code: string, userId: string): Promise<"linked" | "already"> {
  const memberKey = vault.data.memberKey;
  if (!memberKey) throw new TrustError("this device does not hold your member key");
  const [deviceId] = parseLinkCode(code);
  const keys = await authed<{ user_id: string; device_id: string; signing_key: string }[]>("GET", `/groups/${groupId}/keys`);
  const mine = keys.find((k) => k.device_id === deviceId && k.user_id === userId);
  if (!mine) throw new TrustError(`device ${deviceId} is not one of yours in this group`);
  const deviceKey = b64d(mine.signing_key, 32, "signing_key");
  checkLinkCode(code, userId, deviceId, deviceKey);
  const verified = await roster(vault, groupId);
  if (verified.entries.some((e) => e.op === "add_device" && e.body.device_id === deviceId)) return "already";
  const writer = new LogWriter(groupId, [...verified.entries]);
  const entry = await writer.addDevice(memberKey, userId, deviceId, deviceKey, Date.now());
  await authed("POST", `/groups/${groupId}/log`, { body: { entry: entry.toJson() } });
  await roster(vault, groupId);
  return "linked";
}

/**
 * After linking: hand the new device this member's history in the group (§9); never fails the
 * link. Recorded once sent: the log keeps the certification even when the transfer failed, so a
 * retry (the outcome then "already") looks here to know whether it still has to go.
 */
async function sendHistory(vault: Vault, groupId: string, deviceId: string): Promise<{ sent: number } | { error: unknown }> {
  try {
    const { transferHistory } = await import("./transfer");
    const sent = await transferHistory(vault, groupId, deviceId);
    vault.data.secrets.set(transferredName(groupId, deviceId), new Uint8Array([1]));
    await vault.save();
    return { sent };
  } catch (error) {
    return { error };
  }
}

/** Whether the new device still waits for this device's history: linked now, or linked before but never sent. */
function historyDue(vault: Vault, groupId: string, deviceId: string, outcome: "linked" | "already"): boolean {
  if (outcome === "linked") return true;
  return deviceId !== vault.deviceId && !vault.data.secrets.has(transferredName(groupId, deviceId));
}

export interface LinkOutcome {
  groupId: string;
  name: string;
  outcome: "linked" | "already" | "not_pinned" | "failed";
  error?: unknown;
  /** Once linked (or on a retry, if not sent before): how many earlier items went to the new device (HISTORY_TRANSFER), or why none. */
  history?: { sent: number } | { error: unknown };
}

/** Link the new device into every group this device has pinned; one outcome per group. */
export async function linkEverywhere(vault: Vault, code: string, userId: string): Promise<LinkOutcome[]> {
  const [deviceId] = parseLinkCode(code); // a mistyped code fails here, before anything is fetched
  const outcomes: LinkOutcome[] = [];
  for (const group of await listGroups()) {
    const base = { groupId: group.id, name: group.name };
    if (!vault.data.secrets.has(rootPin(group.id))) {
      outcomes.push({ ...base, outcome: "not_pinned" });
      continue;
    }
    try {
      const outcome = await certifyDevice(vault, group.id, code, userId);
      const history = historyDue(vault, group.id, deviceId, outcome) ? await sendHistory(vault, group.id, deviceId) : undefined;
      outcomes.push({ ...base, outcome, ...(history ? { history } : {}) });
    } catch (error) {
      outcomes.push({ ...base, outcome: "failed", error });
    }
  }
  return outcomes;
}
