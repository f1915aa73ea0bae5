/**
 * Handing this member's history to its new device (PROTOCOL §9, HISTORY_TRANSFER), as the SDK's
 * `Cordon.transfer_history`: receiver-chain states and document keys, plus this browser's
 * archive of already-decrypted items (the feed and the records archive, `records/history.ts`),
 * sealed to the new device's prekey only, after it was certified in the group's log. The
 * archive goes in parts when it is larger than one envelope holds; each part is a complete
 * HISTORY_TRANSFER (the first carries the chains and keys).
 */
import { authed } from "../auth/session";
import { b64StdEncode, fromUtf8, KeyUnavailableError, parseEnvelope, UntrustedSenderError } from "../crypto";
import { GroupChannel } from "../feed/engine";
import { items } from "../feed/live";
import { liveFeed } from "../feed/unlock";
import type { Vault } from "../feed/vault";
import { transferArchives } from "../records/history";
import { ARCHIVE } from "../records/incoming";

/** Send the group's history to another device of this member; returns how many items went. */
export async function transferHistory(vault: Vault, groupId: string, deviceId: string): Promise<number> {
  const feed = liveFeed();
  const channel = feed ? await feed.channel(groupId) : await GroupChannel.open(vault, groupId);
  await channel.refresh();
  const target = channel.session.roster.device(deviceId);
  if (!target || target.memberId !== channel.session.memberId || deviceId === vault.deviceId) throw new UntrustedSenderError("history goes only to another device of the same member");
  const signed = await channel.signedPrekeys();
  const now = Date.now();
  const selection = await channel.recipientsFor([deviceId], signed, now);
  const recipient = selection.recipients[0];
  if (!recipient) throw selection.excluded[0] ?? new KeyUnavailableError(`device ${deviceId} has published no prekey yet`);
  const shown = items.value.filter((i) => i.groupId === groupId && i.refused === null && !i.before);
  const raw = vault.data.secrets.get(ARCHIVE(groupId));
  const records = raw && raw.length ? (JSON.parse(fromUtf8(raw)) as unknown[]) : [];
  const parts = transferArchives(groupId, shown, records);
  for (const [n, archive] of parts.entries()) {
    // Sealed and stored between two received items, so the stored session never runs ahead.
    const envelope = await channel.exclusive(async () => {
      const bundle = n === 0 ? channel.session.exportHistory(archive) : { chains: [], documentKeys: [], archive };
      const sealed = await channel.session.transferHistory(bundle, recipient, now);
      await channel.persist();
      return sealed;
    });
    await authed("POST", `/groups/${groupId}/messages`, {
      body: { kind: "history_transfer", client_msg_id: parseEnvelope(envelope).header.messageId, envelope: b64StdEncode(envelope), recipients: [deviceId] },
    });
  }
  return shown.length + records.length;
}
