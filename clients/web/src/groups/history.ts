/**
 * Granting history to a member who joined later (PROTOCOL §9.1), as the SDK's
 * `messaging/history.py: grant`: log `grant_history(member, scope)` (once, signed on the
 * verified head), then send the member's certified devices HISTORY_GRANT envelopes (kind
 * `library`, at most `GRANT_CHUNK` items each) with the keys this coordinator's device kept of the
 * earlier items it opened or sent (`records/history.ts`). The member's device fetches the
 * original envelopes and checks each against the grant and its original sender's signature.
 */
import { authed } from "../auth/session";
import { b64StdDecode, fromUtf8, b64StdEncode, GRANT_SCOPES, type GrantedItem, KeyUnavailableError, MAX_GRANT_ITEMS, parseEnvelope, sha256, TrustError } from "../crypto";
import type { GroupChannel } from "../feed/engine";
import { grantedItems } from "../records/history";
import { ARCHIVE } from "../records/incoming";
import { logHistoryGrant } from "./admin";

const ZERO_ID = "00000000-0000-0000-0000-000000000000";
/**
 * Items per HISTORY_GRANT envelope: §9.1 allows 10,000, but an envelope is at most 256 KiB on
 * this server and one item takes about 140 bytes, so 1,000 (about 140 KB) per envelope.
 */
export const GRANT_CHUNK = Math.min(1_000, MAX_GRANT_ITEMS);
/** The records layer's status-event type (`records/view.ts`), read here without loading the
 * template machinery into the group screen. */
const STATUS_EVENT = "status_event";

interface ArchivedEvent {
  seq: number;
  type: string;
  valid: boolean;
  parent_seq: number | null;
  sender_device_id: string | null;
}

/** The verified status events of the granted pre-notifications in this device's archive, bound
 * by the hash of the server's event item as it serves it now (signed, not encrypted). */
async function grantedEvents(channel: GroupChannel, granted: ReadonlySet<number>): Promise<GrantedItem[]> {
  const out: GrantedItem[] = [];
  const raw = channel.vault.data.secrets.get(ARCHIVE(channel.groupId));
  const archived = raw && raw.length ? (JSON.parse(fromUtf8(raw)) as ArchivedEvent[]) : [];
  for (const item of archived) {
    if (item.type !== STATUS_EVENT || !item.valid || item.parent_seq === null || !granted.has(item.parent_seq)) continue;
    const served = await authed<{ envelope: string }>("GET", `/groups/${channel.groupId}/messages/${item.seq}`);
    out.push({ seq: item.seq, senderDeviceId: item.sender_device_id ?? ZERO_ID, messageId: ZERO_ID, envelopeHash: sha256(b64StdDecode(served.envelope)), itemKey: new Uint8Array() });
  }
  return out;
}

/** As coordinator: grant `scope` history to a member; returns how many earlier items went. */
export async function grantHistory(channel: GroupChannel, userId: string, memberId: string, scope: string): Promise<number> {
  if (!(GRANT_SCOPES as readonly string[]).includes(scope)) throw new TrustError(`scope must be one of ${GRANT_SCOPES.join(", ")}`);
  const vault = channel.vault;
  const groupId = channel.groupId;
  channel.session.updateRoster(await logHistoryGrant(vault, groupId, userId, memberId, scope));
  const member = channel.session.roster.members.get(memberId);
  if (!member) throw new TrustError(`user ${memberId} is not a member in the verified log`);
  let items = grantedItems(vault.data.secrets, groupId, scope);
  if (scope === "prenotifications") items = [...items, ...(await grantedEvents(channel, new Set(items.map((i) => i.seq))))];
  const signed = await channel.signedPrekeys();
  const devices = [...member.devices.keys()].filter((d) => signed.has(d));
  if (!devices.length) throw new KeyUnavailableError("the member has no certified device to receive the grant");
  const now = Date.now();
  const selection = await channel.recipientsFor(devices, signed, now);
  if (!selection.recipients.length) throw selection.excluded[0] ?? new KeyUnavailableError("the member has no certified device to receive the grant");
  const recipients = selection.recipients;
  for (let start = 0; start === 0 || start < items.length; start += GRANT_CHUNK) {
    const chunk = items.slice(start, start + GRANT_CHUNK);
    // Sealed and stored between two received items, so the stored session never runs ahead.
    const envelope = await channel.exclusive(async () => {
      const sealed = await channel.session.grantHistory({ memberId, scope, items: chunk }, recipients, now);
      await channel.persist();
      return sealed;
    });
    await authed("POST", `/groups/${groupId}/messages`, {
      body: { kind: "library", client_msg_id: parseEnvelope(envelope).header.messageId, envelope: b64StdEncode(envelope), recipients: recipients.map((r) => r.deviceId) },
    });
  }
  return items.length;
}
