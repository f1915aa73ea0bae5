/**
 * Vaccine pre-notifications through `/groups/{id}/prenotifications`, as the Python SDK's
 * `prenotifications/operations.py`, on the records layer (`src/records`): send (sealed only to
 * the destination, transit and coordinator devices of the verified roster and this member's
 * other devices, the routing repeated inside the encryption), list and fetch joined with what
 * this device decrypted, and move one through the workflow with an event signed by this device
 * (a discrepancy's findings sealed only to the parties the sender named).
 */
import { b64StdEncode, ContentType, makeLabels, randomUuid, ROLE_DESTINATION, ROLE_TRANSIT, type Roster } from "../crypto";
import type { GroupChannel } from "../feed/engine";
import { allowedMoves, archived, archiveOwn, buildPrenotifications, CASE, COORDINATOR, coordinators, DESTINATION, DETAIL_REQUIRED, discrepancyToCase, DomainError, type Item, PN, PN_DISCREPANCY, type PrenotificationView, type RecordsContext, SENDER, signEvent, type TemplateRegistry } from "../records";
import type { Json } from "../records/templates";
import { PN_AMENDMENT } from "../records/view";

export const PN_TEMPLATE = "vaccine-prenotification";
export const DISCREPANCY_TEMPLATE = "prenotification-discrepancy";

/** The routing the sender repeats inside the encryption (the server's list is not trusted). */
export interface Routing {
  prenotification_id: string;
  destination: string[];
  transit: string[];
}

/** What the server knows: routing, status and times only (the content is encrypted). */
export interface PnRecord {
  id: string;
  group_id: string;
  sender_user_id: string | null;
  sender_device_id: string | null;
  template_id: string;
  template_version: number;
  status: string;
  event_count: number;
  stream_seq: number;
  eta: string | null;
  overdue: boolean;
  sent_at: string;
  recipients: { user_id: string; role: string }[];
  events?: { seq: number; detail_seq: number | null }[];
}

const base = (groupId: string) => `/groups/${groupId}/prenotifications`;

/**
 * Seal content to the verified devices of these users and this member's other devices
 * (`post_targeted`): a named user left without a device with a valid signed prekey is refused
 * here, since the server refuses a party it does not reach.
 */
export async function postTargeted(ctx: RecordsContext, channel: GroupChannel, content: Uint8Array, users: Iterable<string>, options: { messageId?: string; labels?: ReturnType<typeof makeLabels> } = {}): Promise<Uint8Array> {
  const session = channel.session;
  const signed = await channel.signedPrekeys(ctx.call);
  const me = ctx.userId;
  const wanted = new Set([...users].filter((u) => u !== me));
  const devices: string[] = [];
  for (const userId of [...wanted, me].sort()) {
    const usable = [...(session.roster.members.get(userId)?.devices.keys() ?? [])].filter((d) => signed.has(d) && d !== ctx.deviceId).sort();
    if (!usable.length && wanted.has(userId)) throw new DomainError(`user ${userId} has no certified device with a prekey`);
    devices.push(...usable);
  }
  const now = Date.now();
  const selection = await channel.recipientsFor(devices, signed, now, ctx.call);
  const kept = new Set(selection.recipients.map((r) => r.deviceId));
  for (const userId of [...wanted].sort()) {
    const lost = selection.excluded.find((e) => e.memberId === userId);
    if (lost && ![...(session.roster.members.get(userId)?.devices.keys() ?? [])].some((d) => kept.has(d))) throw lost;
  }
  // Sealed and stored between two received items (`GroupChannel.exclusive`), so the stored
  // session is never ahead of the live feed's stored cursor.
  return channel.exclusive(async () => {
    const envelope = await channel.session.encryptTargeted(ContentType.PRENOTIFICATION, content, selection.recipients, now, options.messageId, options.labels);
    await channel.persist();
    return envelope;
  });
}

export interface SendRequest {
  data: Record<string, unknown>;
  destination: string[];
  transit?: string[];
  /** Also give the server the ETA (server-side overdue lists; its operator then learns it). */
  discloseEta?: boolean;
  templateVersion?: number;
}

/** Validate and send a pre-notification to its destination, transit users and the coordinators. */
export async function sendPrenotification(ctx: RecordsContext, channel: GroupChannel, registry: TemplateRegistry, request: SendRequest): Promise<PnRecord> {
  if (!request.destination.length) throw new DomainError("a pre-notification needs at least one destination user");
  const transit = request.transit ?? [];
  const template = registry.get(PN_TEMPLATE, request.templateVersion ?? null);
  await channel.refresh();
  const messageId = randomUuid();
  const routing: Routing = { prenotification_id: messageId, destination: request.destination, transit };
  const content = registry.makeContent(PN, template.id, request.data as Json, { version: template.version, extra: { routing: routing as unknown as Json } });
  const parties = new Set([...request.destination, ...transit, ...coordinators(channel.session.roster)]);
  const roles = [...request.destination.map((u) => [u, ROLE_DESTINATION] as const), ...transit.map((u) => [u, ROLE_TRANSIT] as const)];
  const envelope = await postTargeted(ctx, channel, content, parties, { messageId, labels: makeLabels({ roles }) });
  const transport = request.data.transport as Record<string, unknown> | undefined;
  const body: Record<string, unknown> = { envelope: b64StdEncode(envelope), destination: request.destination, transit, template_id: template.id, template_version: template.version };
  if (request.discloseEta && typeof transport?.eta === "string") body.eta = transport.eta;
  const record = await ctx.call<PnRecord>("POST", base(channel.groupId), body);
  await archiveOwn(ctx, channel.groupId, { seq: record.stream_seq, kind: "prenotification", content, registry });
  return record;
}

/** Every server record this member is party to (all pages). */
export async function listRecords(ctx: RecordsContext, groupId: string): Promise<PnRecord[]> {
  const out: PnRecord[] = [];
  let cursor: string | null = null;
  for (;;) {
    const query: string = cursor ? `?limit=200&cursor=${encodeURIComponent(cursor)}` : "?limit=200";
    const page: { items: PnRecord[]; next_cursor: string | null } = await ctx.call("GET", `${base(groupId)}${query}`);
    out.push(...page.items);
    cursor = page.next_cursor;
    if (!cursor || !page.items.length) return out;
  }
}

/** The pre-notifications decrypted here, each joined with its server record when listed. */
export function joinViews(ctx: RecordsContext, groupId: string, records: readonly PnRecord[]): PrenotificationView[] {
  const bySeq = new Map(records.map((r) => [r.stream_seq, r]));
  const views = buildPrenotifications(archived(ctx.secrets, groupId));
  for (const view of views) view.server = (bySeq.get(view.seq) as unknown as Record<string, unknown>) ?? null;
  return views;
}

const routingOf = (view: PrenotificationView) => (view.original.routing ?? {}) as Partial<Routing>;

/** The capacities this member holds: sender, a destination the sender named, coordinator. */
export function capacities(view: PrenotificationView, roster: Roster, me: string): string[] {
  const held: string[] = [];
  if (view.original.sender_user_id === me) held.push(SENDER);
  if ((routingOf(view).destination ?? []).includes(me)) held.push(DESTINATION);
  if (coordinators(roster).has(me)) held.push(COORDINATOR);
  return held;
}

/**
 * Who a detail is sealed to (`_parties`): users the sender named and current coordinators,
 * among those the server addressed, and the sender; a user only the server lists is left out.
 */
export function detailParties(view: PrenotificationView, roster: Roster, record: PnRecord): Set<string> {
  const r = routingOf(view);
  const named = new Set([...(r.destination ?? []), ...(r.transit ?? []), ...coordinators(roster)]);
  const out = new Set(record.recipients.map((p) => p.user_id).filter((u) => named.has(u)));
  if (view.original.sender_user_id) out.add(view.original.sender_user_id);
  return out;
}

/** The moves this member may make now (`amended` is the sender's, with a new version). */
export function movesFor(view: PrenotificationView, roster: Roster, me: string): string[] {
  const status = view.serverStatus ?? view.status;
  return allowedMoves(status, capacities(view, roster, me));
}

/**
 * Move a pre-notification to `to` with an event signed by this device (`transition`). A
 * discrepancy needs its findings (`{kind, details, lots?, quantity_found?, temperature_c?}`),
 * validated against the discrepancy template; `amended` needs the new version, validated
 * against the original's template (latest version, as the SDK does). Either detail is sealed
 * to the parties the sender named.
 */
export async function transition(ctx: RecordsContext, channel: GroupChannel, registry: TemplateRegistry, view: PrenotificationView, to: string, detail?: Record<string, unknown>): Promise<PnRecord> {
  const id = view.id;
  if (!id) throw new DomainError("this pre-notification has no id yet");
  const record = await ctx.call<PnRecord>("GET", `${base(channel.groupId)}/${id}`);
  await channel.refresh();
  const roster = channel.session.roster;
  if (!allowedMoves(record.status, capacities(view, roster, ctx.userId)).includes(to)) {
    throw new DomainError(`you may not move this pre-notification from ${record.status} to ${to}`);
  }
  let envelope: Uint8Array | null = null;
  let content: Uint8Array | null = null;
  if (DETAIL_REQUIRED.has(to)) {
    if (!detail) throw new DomainError(`${to} needs a detail (the new version or the findings)`);
    if (to === "amended") {
      const template = registry.get(typeof view.original.template?.id === "string" ? view.original.template.id : PN_TEMPLATE);
      content = registry.makeContent(PN_AMENDMENT, template.id, detail as Json, { version: template.version });
    } else content = registry.makeContent(PN_DISCREPANCY, DISCREPANCY_TEMPLATE, detail as Json);
    const target = view.original.sender_device_id ? { senderDeviceId: view.original.sender_device_id, messageId: id } : null;
    envelope = await postTargeted(ctx, channel, content, detailParties(view, roster, record), { labels: makeLabels({ replyTo: target }) });
  }
  const ts = Date.now();
  const signature = await signEvent(channel.vault.data.signingKey, { groupId: channel.groupId, prenotificationId: id, seq: record.event_count, fromStatus: record.status, toStatus: to, ts, detail: envelope });
  const body: Record<string, unknown> = { from_status: record.status, to_status: to, seq: record.event_count, ts, signature: b64StdEncode(signature) };
  if (envelope) body.detail_envelope = b64StdEncode(envelope);
  const updated = await ctx.call<PnRecord>("POST", `${base(channel.groupId)}/${id}/events`, body);
  const detailSeq = updated.events?.at(-1)?.detail_seq ?? null;
  if (content && detailSeq !== null) await archiveOwn(ctx, channel.groupId, { seq: detailSeq, kind: "prenotification", content, registry, parentSeq: view.seq, sentAtMs: ts });
  return updated;
}

/**
 * A seizure case pre-filled from the pre-notification and its latest discrepancy, validated
 * (simplified form) and broadcast to the group in one step, as the SDK's
 * `discrepancy_to_case(post=True)`: route, product, lots and the finding's kind carry over, the
 * reporting country is the destination's.
 */
export async function discrepancyCase(ctx: RecordsContext, channel: GroupChannel, registry: TemplateRegistry, view: PrenotificationView): Promise<Item> {
  const finding = view.discrepancies.at(-1)?.data ?? null;
  if (!finding) throw new DomainError("no discrepancy recorded yet");
  const kind = String(finding.kind);
  const lots = Array.isArray(finding.lots) && finding.lots.length ? (finding.lots as string[]) : null;
  const remarks = `Discrepancy on pre-notification ${view.id}: ${String(finding.details ?? kind)}`.slice(0, 2000);
  const data = discrepancyToCase(view.data, { reportingCountry: String(view.data.destination_country), kind, lots, remarks });
  const content = registry.makeContent(CASE, "seizure-case", data, { form: "simplified" });
  const { seq, sentAtMs } = await channel.send("alert", content);
  return archiveOwn(ctx, channel.groupId, { seq, kind: "alert", content, registry, sentAtMs });
}
