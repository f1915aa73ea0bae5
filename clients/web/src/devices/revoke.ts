/**
 * Revoking a device (PROTOCOL §4.2, §10), as the Python SDK's `revoke_device` / CLI `cordon
 * group device revoke`: a signed `revoke_device` entry in each group's log this device has
 * pinned, signed on top of the head it verified, then the server's record
 * (`POST /devices/{id}/revoke`, which ends the device's tokens at once). Senders then leave the
 * device out of every wrap and rotate their chain before their next broadcast.
 *
 * Signer: the group's root key if this device opened the log, else the member key (a device's
 * own member may always revoke it). A coordinator revokes another member's device with a
 * coordinator key, in the log only: the server lets only a device's owner end its tokens.
 */
import { ApiError } from "../api/client";
import { authed } from "../auth/session";
import { LogWriter, type SigningKey, signingKeyFromSeed, TrustError } from "../crypto";
import { listGroups, roster } from "../feed/engine";
import type { Vault } from "../feed/vault";

/** One of the caller's devices as the server lists them (`GET /devices`). */
export interface MyDevice {
  id: string;
  name: string;
  created_at: string;
  last_seen_at: string | null;
  revoked_at: string | null;
}

export const myDevices = () => authed<MyDevice[]>("GET", "/devices");

export interface RevokeOutcome {
  groupId: string;
  name: string;
  outcome: "revoked" | "not_there" | "not_pinned" | "failed";
  error?: unknown;
}

/** Sign `revoke_device(member, device)` on top of the verified head, post it, re-verify. */
async function appendRevocation(vault: Vault, groupId: string, signer: SigningKey, memberId: string, deviceId: string): Promise<void> {
  const verified = await roster(vault, groupId);
  const writer = new LogWriter(groupId, [...verified.entries]);
  const entry = await writer.append(signer, "revoke_device", { member_id: memberId, device_id: deviceId }, Date.now());
  await authed("POST", `/groups/${groupId}/log`, { body: { entry: entry.toJson() } });
  await roster(vault, groupId);
}

/**
 * Revoke one of my devices: in the log of every group this device pinned and certifies it in,
 * then on the server. The server's revocation runs even if a group failed (a lost device
 * loses its access at once); the failed group is reported so it can be tried again.
 */
export async function revokeMyDevice(vault: Vault, userId: string, deviceId: string): Promise<RevokeOutcome[]> {
  if (deviceId === vault.deviceId) throw new TrustError("this device cannot revoke itself: revoke it from another of your devices");
  const memberKey = vault.data.memberKey;
  const outcomes: RevokeOutcome[] = [];
  for (const group of await listGroups()) {
    const base = { groupId: group.id, name: group.name };
    if (!vault.data.secrets.has(`root-pin:${group.id}`)) {
      outcomes.push({ ...base, outcome: "not_pinned" });
      continue;
    }
    try {
      const verified = await roster(vault, group.id);
      if (verified.device(deviceId)?.memberId !== userId) {
        outcomes.push({ ...base, outcome: "not_there" });
        continue;
      }
      const seed = vault.data.secrets.get(`root-key:${group.id}`);
      const signer = seed ? await signingKeyFromSeed(seed, false) : memberKey;
      if (!signer) throw new TrustError("this device holds neither your member key nor a coordinator key");
      await appendRevocation(vault, group.id, signer, userId, deviceId);
      outcomes.push({ ...base, outcome: "revoked" });
    } catch (error) {
      outcomes.push({ ...base, outcome: "failed", error });
    }
  }
  try {
    await authed("POST", `/devices/${deviceId}/revoke`);
  } catch (error) {
    if (!(error instanceof ApiError && error.code === "device.revoked")) throw error;
  }
  return outcomes;
}

/** As coordinator: revoke a member's device in this group's signed log (`signer` a coordinator key). */
export async function revokeMemberDevice(vault: Vault, groupId: string, signer: SigningKey, memberId: string, deviceId: string): Promise<void> {
  await appendRevocation(vault, groupId, signer, memberId, deviceId);
}
