/**
 * Signed status events (PROTOCOL §12). The server writes each transition into the stream as a
 * `prenotification_event` item whose envelope is its own JSON (routing fields and the acting
 * device's signature), so nothing in it is trusted until the signature verifies under that
 * device's key *from the verified roster*, over the attached detail envelope's hash
 * (`records/view.py: verify_status_event`). No UI imports.
 */
import { CryptoError, fromHex, type Roster, verifyEvent } from "../crypto";
import { isStatus, type Status } from "./workflow";

/** A status event as the stream carries it. */
export interface StatusEventItem {
  prenotification_id: string;
  seq: number;
  from: Status;
  to: Status;
  actor_user_id: string;
  actor_device_id: string;
  ts: number;
  detail_seq: number | null;
  sig: string;
}

export class EventRefused extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = "EventRefused";
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const int = (v: unknown) => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;

/** The server's JSON, strictly: a malformed event is refused before any key is looked up. */
export function parseEvent(raw: Uint8Array | string): StatusEventItem {
  let e: Record<string, unknown>;
  try {
    e = JSON.parse(typeof raw === "string" ? raw : new TextDecoder("utf-8", { fatal: true }).decode(raw)) as Record<string, unknown>;
  } catch {
    throw new EventRefused("status event: malformed");
  }
  const ok =
    typeof e === "object" && e !== null &&
    typeof e.prenotification_id === "string" && UUID.test(e.prenotification_id) &&
    int(e.seq) && isStatus(e.from) && isStatus(e.to) &&
    typeof e.actor_user_id === "string" && UUID.test(e.actor_user_id) &&
    typeof e.actor_device_id === "string" && UUID.test(e.actor_device_id) &&
    int(e.ts) && (e.detail_seq === null || int(e.detail_seq)) &&
    typeof e.sig === "string" && /^[0-9a-f]{128}$/.test(e.sig);
  if (!ok) throw new EventRefused("status event: malformed");
  return e as unknown as StatusEventItem;
}

/**
 * Check an event's signature under the acting device's key from the verified roster; `detail`
 * is the envelope at `detail_seq` (null when it has none). Throws `EventRefused`.
 */
export async function verifyStatusEvent(event: StatusEventItem, roster: Roster, detail: Uint8Array | null): Promise<void> {
  const device = roster.device(event.actor_device_id);
  if (!device) throw new EventRefused("signature: the acting device is not in the verified roster");
  if (device.memberId !== event.actor_user_id) throw new EventRefused("signature: the acting device belongs to another member");
  if ((event.detail_seq === null) !== (detail === null)) throw new EventRefused("status event: its detail is missing");
  try {
    await verifyEvent(device.signingKey, fromHex(event.sig), {
      groupId: roster.groupId,
      prenotificationId: event.prenotification_id,
      seq: event.seq,
      fromStatus: event.from,
      toStatus: event.to,
      ts: event.ts,
      detail,
    });
  } catch (error) {
    if (error instanceof CryptoError) throw new EventRefused(error.message);
    throw error;
  }
}
