/**
 * Pre-notifications through `/groups/{id}/prenotifications`, as the Python SDK's
 * `prenotifications/operations.py`: send (sealed only to the destination, transit and
 * coordinator devices of the verified roster and this member's other devices, the routing
 * repeated inside the encryption), list and fetch the server's records, move one through the
 * workflow with an event signed by this device (a discrepancy's findings sealed to the parties
 * the sender named), and check every event of the history against the verified roster.
 */
import { authed } from "../auth/session";
import { b64d, b64StdDecode, b64StdEncode, ClaimLedger, ContentType, makeLabels, toHex, prekeyFromJson, randomUuid, ROLE_DESTINATION, ROLE_TRANSIT, type Roster, selectRecipients, type SignedPrekey } from "../crypto";
import type { GroupChannel } from "../feed/engine";
import { archive, archived, storedContent } from "./archive";
import { discrepancyContent, encodeContent, PN, type Discrepancy, type PnContent, type Routing, type TemplateRef } from "./content";
import { EventRefused, type StatusEventItem, verifyStatusEvent } from "./events";
import { allowedMoves, type Capacity, COORDINATOR, DESTINATION, SENDER, signEvent, type Status } from "./workflow";

export interface Recipient {
  user_id: string;
  role: "destination" | "transit" | "coordinator" | string;
}

export interface EventRecord {
  seq: number;
  from_status: Status | null;
  to_status: Status;
  actor_user_id: string | null;
  actor_device_id: string | null;
  ts: number;
  signature: string;
  detail_seq: number | null;
  stream_seq: number;
  created_at: string;
}

/** What the server knows: routing, status and times only (the content is encrypted). */
export interface PnRecord {
  id: string;
  group_id: string;
  sender_user_id: string | null;
  sender_device_id: string | null;
  template_id: string;
  template_version: number;
  status: Status;
  event_count: number;
  stream_seq: number;
  eta: string | null;
  overdue: boolean;
  sent_at: string;
  updated_at: string;
  recipients: Recipient[];
  events?: EventRecord[];
}

const base = (groupId: string) => `/groups/${groupId}/prenotifications`;

export class PrenotificationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PrenotificationError";
  }
}

/** Every pre-notification this member is party to (all pages). */
export async function listRecords(groupId: string): Promise<PnRecord[]> {
  const out: PnRecord[] = [];
  let cursor: string | null = null;
  do {
    const query: string = cursor ? `?limit=200&cursor=${encodeURIComponent(cursor)}` : "?limit=200";
    const page: { items: PnRecord[]; next_cursor: string | null } = await authed("GET", `${base(groupId)}${query}`);
    out.push(...page.items);
    cursor = page.items.length ? page.next_cursor : null;
  } while (cursor);
  return out;
}

export const getRecord = (groupId: string, id: string) => authed<PnRecord>("GET", `${base(groupId)}/${id}`);

export const coordinatorsOf = (roster: Roster) => new Set([...roster.members.values()].filter((m) => m.role === "coordinator").map((m) => m.memberId));

/**
 * Seal content to the certified devices of these users and this member's other devices
 * (`post_targeted`): every named user must keep a device with a valid signed prekey.
 */
async function sealTo(channel: GroupChannel, content: Uint8Array, users: Iterable<string>, me: string, messageId: string | undefined, labels: ReturnType<typeof makeLabels>): Promise<Uint8Array> {
  const session = channel.session;
  const served = await authed<{ device_id: string; prekeys: unknown[] }[]>("GET", `/groups/${channel.groupId}/keys`);
  const signed = new Map<string, SignedPrekey>();
  for (const device of served) {
    const records = device.prekeys.map((p) => prekeyFromJson(p));
    if (records.length) signed.set(device.device_id, records.reduce((a, b) => (b.createdTs > a.createdTs ? b : a)));
  }
  const wanted = new Set([...users].filter((u) => u !== me));
  const devices: string[] = [];
  for (const userId of [...wanted, me].sort()) {
    const member = session.roster.members.get(userId);
    const usable = [...(member?.devices.keys() ?? [])].filter((d) => signed.has(d) && d !== channel.vault.deviceId).sort();
    if (!usable.length && wanted.has(userId)) throw new PrenotificationError(`user ${userId} has no certified device with a prekey`);
    devices.push(...usable);
  }
  const now = Date.now();
  const selection = await selectRecipients(session.roster, devices, signed, new Map(), now, new ClaimLedger());
  const kept = new Set(selection.recipients.map((r) => r.deviceId));
  for (const userId of wanted) {
    const devicesOf = [...(session.roster.members.get(userId)?.devices.keys() ?? [])];
    if (!devicesOf.some((d) => kept.has(d))) throw selection.excluded.find((e) => e.memberId === userId) ?? new PrenotificationError(`user ${userId} cannot be reached`);
  }
  const envelope = await session.encryptTargeted(ContentType.PRENOTIFICATION, content, selection.recipients, now, messageId, labels);
  await channel.persist();
  return envelope;
}

export interface SendRequest {
  data: Record<string, unknown>;
  template: TemplateRef;
  destination: string[];
  transit: string[];
  /** Also tell the server the ETA (server-side overdue lists; the operator then learns it). */
  discloseEta: boolean;
}

/** Send a validated pre-notification (the caller validated `data` against `template`). */
export async function sendPrenotification(channel: GroupChannel, me: string, request: SendRequest): Promise<PnRecord> {
  if (!request.destination.length) throw new PrenotificationError("a pre-notification needs at least one destination user");
  await channel.refresh();
  const messageId = randomUuid();
  const routing: Routing = { prenotification_id: messageId, destination: request.destination, transit: request.transit };
  const content = encodeContent({ type: PN, template: request.template, data: request.data, routing });
  const parties = new Set([...request.destination, ...request.transit, ...coordinatorsOf(channel.session.roster)]);
  const roles = [...request.destination.map((u) => [u, ROLE_DESTINATION] as const), ...request.transit.map((u) => [u, ROLE_TRANSIT] as const)];
  const envelope = await sealTo(channel, content, parties, me, messageId, makeLabels({ roles }));
  const eta = (request.data.transport as Record<string, unknown> | undefined)?.eta;
  const record = await authed<PnRecord>("POST", base(channel.groupId), {
    body: {
      envelope: b64StdEncode(envelope),
      destination: request.destination,
      transit: request.transit,
      template_id: request.template.id,
      template_version: request.template.version,
      ...(request.discloseEta && typeof eta === "string" ? { eta } : {}),
    },
  });
  archive(channel.vault.data, channel.groupId, { seq: record.stream_seq, parentSeq: null, senderUserId: me, senderDeviceId: channel.vault.deviceId, messageId, content: storedContent(content), refused: null, createdAt: record.sent_at });
  await channel.vault.save();
  return record;
}

/** The capacities this member holds on a pre-notification (from its decrypted routing). */
export function capacities(record: PnRecord, routing: Routing | null, roster: Roster, me: string): Capacity[] {
  const held: Capacity[] = [];
  if (record.sender_user_id === me) held.push(SENDER);
  if (routing?.destination.includes(me)) held.push(DESTINATION);
  if (coordinatorsOf(roster).has(me)) held.push(COORDINATOR);
  return held;
}

/** Who a detail is sealed to: users the sender named and coordinators the server lists, and the sender. */
function detailParties(record: PnRecord, routing: Routing, roster: Roster): Set<string> {
  const named = new Set([...routing.destination, ...routing.transit, ...coordinatorsOf(roster)]);
  const out = new Set(record.recipients.map((r) => r.user_id).filter((u) => named.has(u)));
  if (record.sender_user_id) out.add(record.sender_user_id);
  return out;
}

/**
 * Move a pre-notification to `to` with an event signed by this device; a discrepancy carries
 * its findings, sealed to the parties the sender named. Refused before any call if the
 * workflow does not allow this member the move.
 */
export async function transition(channel: GroupChannel, me: string, record: PnRecord, original: PnContent, to: Status, finding?: Discrepancy): Promise<PnRecord> {
  await channel.refresh();
  const routing = original.routing ?? null;
  if (!allowedMoves(record.status, capacities(record, routing, channel.session.roster, me)).includes(to)) {
    throw new PrenotificationError(`you may not move this pre-notification from ${record.status} to ${to}`);
  }
  let envelope: Uint8Array | null = null;
  let content: Uint8Array | null = null;
  if (to === "amended") throw new PrenotificationError("amending is not offered in the browser yet");
  if (to === "discrepancy") {
    if (!finding || !routing) throw new PrenotificationError("discrepancy needs the findings");
    content = encodeContent(discrepancyContent(finding));
    const target = record.sender_device_id ? { senderDeviceId: record.sender_device_id, messageId: record.id } : null;
    envelope = await sealTo(channel, content, detailParties(record, routing, channel.session.roster), me, undefined, makeLabels({ replyTo: target }));
  }
  const ts = Date.now();
  const signature = await signEvent(channel.vault.data.signingKey, { groupId: channel.groupId, prenotificationId: record.id, seq: record.event_count, fromStatus: record.status, toStatus: to, ts, detail: envelope });
  const updated = await authed<PnRecord>("POST", `${base(channel.groupId)}/${record.id}/events`, {
    body: { from_status: record.status, to_status: to, seq: record.event_count, ts, signature: b64StdEncode(signature), ...(envelope ? { detail_envelope: b64StdEncode(envelope) } : {}) },
  });
  const detailSeq = updated.events?.at(-1)?.detail_seq ?? null;
  if (content && detailSeq !== null) {
    archive(channel.vault.data, channel.groupId, { seq: detailSeq, parentSeq: record.stream_seq, senderUserId: me, senderDeviceId: channel.vault.deviceId, messageId: null, content: storedContent(content), refused: null, createdAt: new Date(ts).toISOString() });
    await channel.vault.save();
  }
  return updated;
}

/** One event of the history with the outcome of its check; a refused one is never trusted. */
export interface CheckedEvent {
  record: EventRecord;
  refused: string | null;
}

/** The server's event as the stream carries it (signature in hex), for the signature check. */
export function asStreamEvent(record: PnRecord, e: EventRecord): StatusEventItem {
  return {
    prenotification_id: record.id,
    seq: e.seq,
    from: (e.from_status ?? "sent") as Status,
    to: e.to_status,
    actor_user_id: e.actor_user_id ?? "",
    actor_device_id: e.actor_device_id ?? "",
    ts: e.ts,
    detail_seq: e.detail_seq,
    sig: toHex(b64d(e.signature)),
  };
}

/** Check each event of a record's history under the verified roster (detail envelopes fetched). */
export async function checkHistory(channel: GroupChannel, record: PnRecord): Promise<CheckedEvent[]> {
  const out: CheckedEvent[] = [];
  let expected = 0;
  for (const e of record.events ?? []) {
    let refused: string | null = null;
    try {
      if (e.seq !== expected) throw new EventRefused(`status event: seq ${e.seq} where ${expected} was due`);
      let detail: Uint8Array | null = null;
      if (e.detail_seq !== null) {
        const item = await authed<{ envelope: string }>("GET", `/groups/${channel.groupId}/messages/${e.detail_seq}`);
        detail = b64StdDecode(item.envelope);
      }
      await verifyStatusEvent(asStreamEvent(record, e), channel.session.roster, detail);
    } catch (error) {
      if (!(error instanceof EventRefused)) throw error;
      refused = error.message;
    }
    out.push({ record: e, refused });
    expected += 1;
  }
  return out;
}

export { archived };
