/**
 * Out-of-band bindings (PROTOCOL.md §3.5–3.7), as `crypto/invite.py`: invitations and join
 * MACs, member safety numbers, device link codes. The server never sees the secret or the code.
 */

import { b64d, b64e, type Bytes, concat, ctEqual, randomBytes, uuidBytes, uuidText } from "./bytes";
import { sigInput } from "./encoding";
import { BindingError, MalformedError } from "./errors";
import { digits, iteratedDigest } from "./keys";
import { hkdfSha256, hmacSha256, sha256 } from "./primitives";

export const INVITE_PREFIX = "cordon-invite:2:";
export const LINK_PREFIX = "cordon-link:2:";
export const MEMBER_QR_PREFIX = "cordon-member:2:";
export const INVITATION_TTL_MS = 14 * 86_400_000;

/** The 16-byte commitment to the group's root that an invitation carries. */
export function rootHash(groupId: string, rootKey: Uint8Array): Bytes {
  return sha256(sigInput("invite-root", uuidBytes(groupId), rootKey)).slice(0, 16);
}

/** What the coordinator hands one joining member outside Cordon (text or QR). */
export class Invitation {
  constructor(
    readonly groupId: string,
    readonly rootHash: Bytes,
    readonly secret: Bytes,
  ) {}

  /** A fresh invitation; `secret` only for reproducible vectors. */
  static create(groupId: string, rootKey: Uint8Array, secret?: Uint8Array): Invitation {
    const raw = secret ?? randomBytes(16);
    if (raw.length !== 16) throw new RangeError("an invitation secret is 16 bytes");
    return new Invitation(groupId, rootHash(groupId, rootKey), raw as Bytes);
  }

  /** One-way id the server indexes join requests by. */
  get invitationId(): Bytes {
    return hkdfSha256(this.secret, sigInput("invite-id", uuidBytes(this.groupId)), 16);
  }

  macKey(): Bytes {
    return hkdfSha256(this.secret, sigInput("join-mac", uuidBytes(this.groupId), this.invitationId), 32);
  }

  toText(): string {
    return INVITE_PREFIX + b64e(concat(uuidBytes(this.groupId), this.rootHash, this.secret));
  }

  static fromText(text: string): Invitation {
    const t = text.replace(/\s+/g, "");
    if (!t.startsWith(INVITE_PREFIX)) throw new MalformedError("invitation: not a Cordon v2 invitation (cordon-invite:2:…)");
    const raw = b64d(t.slice(INVITE_PREFIX.length), 48, "invitation");
    return new Invitation(uuidText(raw.slice(0, 16)), raw.slice(16, 32), raw.slice(32));
  }

  /** The member learns the root from the invitation: refuse any other (constant-time). */
  checkRoot(groupId: string, rootKey: Uint8Array): void {
    if (groupId !== this.groupId) throw new BindingError(`the invitation is for group ${this.groupId}, not ${groupId}`);
    if (!ctEqual(rootHash(groupId, rootKey), this.rootHash)) {
      throw new BindingError(`group ${groupId}: the log's root key ${b64e(rootKey)} is not the root named by your invitation`);
    }
  }
}

export function joinMacInput(inv: Invitation, memberId: string, memberKey: Uint8Array): Bytes {
  return sigInput("join-request", uuidBytes(inv.groupId), inv.invitationId, uuidBytes(memberId), memberKey, inv.rootHash);
}

/** The joining device's proof that it holds the invitation, over its member key. */
export function joinMac(inv: Invitation, memberId: string, memberKey: Uint8Array): Bytes {
  return hmacSha256(inv.macKey(), joinMacInput(inv, memberId, memberKey));
}

/** Accept a join request's member key only if the invitation holder MACed exactly it. */
export function checkJoinMac(inv: Invitation, memberId: string, memberKey: Uint8Array, mac: Uint8Array): void {
  if (!ctEqual(joinMac(inv, memberId, memberKey), mac)) {
    throw new BindingError(`join request of member ${memberId}: the MAC does not cover member key ${b64e(memberKey)} (substituted key or wrong invitation)`);
  }
}

/** The fallback binding (§3.6): 12 groups of 5 digits. */
export function memberSafetyNumber(memberId: string, memberKey: Uint8Array): string {
  return digits(iteratedDigest(sigInput("member-fingerprint", uuidBytes(memberId), memberKey), memberKey, 5200));
}

export function memberQrPayload(memberId: string, memberKey: Uint8Array): string {
  return `${MEMBER_QR_PREFIX}${memberId}:${b64e(memberKey)}`;
}

/** Refuse a directory key that differs from the safety number or QR payload compared. */
export function checkMemberFingerprint(memberId: string, memberKey: Uint8Array, compared: string): void {
  const given = compared.trim();
  let ok: boolean;
  if (given.startsWith(MEMBER_QR_PREFIX)) {
    const parts = given.slice(MEMBER_QR_PREFIX.length).split(":");
    if (parts.length !== 2) throw new MalformedError("member QR payload: expected member id and key");
    uuidBytes(parts[0], "QR member id");
    ok = parts[0] === memberId && ctEqual(b64d(parts[1]), memberKey);
  } else {
    ok = given.split(/\s+/).join(" ") === memberSafetyNumber(memberId, memberKey);
  }
  if (!ok) throw new BindingError(`member ${memberId}: the directory's key ${b64e(memberKey)} does not match the fingerprint compared out of band`);
}

export function linkHash(memberId: string, deviceId: string, deviceKey: Uint8Array): Bytes {
  return sha256(sigInput("link-code", uuidBytes(memberId), uuidBytes(deviceId), deviceKey)).slice(0, 16);
}

/** What a new device shows (§3.7). */
export function linkCode(memberId: string, deviceId: string, deviceKey: Uint8Array): string {
  return LINK_PREFIX + b64e(concat(uuidBytes(deviceId), linkHash(memberId, deviceId, deviceKey)));
}

export function parseLinkCode(code: string): [string, Bytes] {
  const c = code.replace(/\s+/g, "");
  if (!c.startsWith(LINK_PREFIX)) throw new MalformedError("link code: not a Cordon v2 link code (cordon-link:2:…)");
  const raw = b64d(c.slice(LINK_PREFIX.length), 32, "link code");
  return [uuidText(raw.slice(0, 16)), raw.slice(16)];
}

/** Certify only the key the new device's code commits to. */
export function checkLinkCode(code: string, memberId: string, deviceId: string, deviceKey: Uint8Array): void {
  const [codeDevice, expected] = parseLinkCode(code);
  if (codeDevice !== deviceId) throw new BindingError(`the link code is for device ${codeDevice}, not ${deviceId}`);
  if (!ctEqual(linkHash(memberId, deviceId, deviceKey), expected)) {
    throw new BindingError(`device ${deviceId}: the served signing key ${b64e(deviceKey)} is not the key its link code commits to`);
  }
}
