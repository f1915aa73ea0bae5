/**
 * Signed delivery/read receipts (PROTOCOL.md §7.2), as `messaging/routing.py: receipt_body`/`check_receipt`:
 * the body a device posts, and the sender-side check of a pushed `receipt` stream item.
 */

import { b64d, b64e, MalformedError, type MessageRef, receiptSigningInput, RoutingMismatchError, type Roster, sign, SignatureError, type SigningKey, UntrustedSenderError, uuidBytes, verifyEd25519 } from "../crypto";

/** A receipt as posted (HTTP body item or websocket frame). */
export async function receiptBody(key: SigningKey, r: { groupId: string; seq: number; item: MessageRef; deviceId: string; status: "delivered" | "read"; ts: number }) {
  const signed = receiptSigningInput({ groupId: r.groupId, item: r.item, deviceId: r.deviceId, status: r.status, ts: r.ts });
  return { group_id: r.groupId, seq: r.seq, status: r.status, ts: r.ts, sig: b64e(await sign(key, signed)) };
}

/**
 * Accept a pushed receipt only if a roster device signed it for this device's own item at that
 * seq (`mine`, as this device sent it); otherwise the refusal the Python SDK gives.
 */
export async function checkReceipt(event: Record<string, unknown>, groupId: string, roster: Roster, mine: MessageRef | null): Promise<void> {
  let deviceId: string;
  let ref: MessageRef;
  let sig: Uint8Array;
  let signed: Uint8Array;
  try {
    deviceId = String(event.device_id);
    uuidBytes(deviceId);
    const item = event.item as Record<string, unknown>;
    ref = { senderDeviceId: String(item.sender_device_id), messageId: String(item.message_id) };
    uuidBytes(ref.senderDeviceId);
    uuidBytes(ref.messageId);
    const ts = event.ts;
    sig = b64d(event.sig, 64, "receipt.sig");
    if (typeof ts !== "number" || !Number.isSafeInteger(ts)) throw new MalformedError("ts");
    signed = receiptSigningInput({ groupId, item: ref, deviceId, status: String(event.status), ts });
  } catch (e) {
    throw new RoutingMismatchError(`receipt for seq ${String(event.seq)}: malformed (${e instanceof Error ? e.message : String(e)})`);
  }
  const device = roster.device(deviceId);
  if (!device) throw new UntrustedSenderError(`receipt from device ${deviceId}, not in the verified roster`);
  if (!(await verifyEd25519(device.signingKey, sig, signed))) throw new SignatureError(`receipt for seq ${String(event.seq)}: signature does not verify`);
  if (!mine || mine.senderDeviceId !== ref.senderDeviceId || mine.messageId !== ref.messageId) {
    throw new RoutingMismatchError(`receipt for seq ${String(event.seq)}: signed for another item than the one there`);
  }
}
