/**
 * The local, pure view of seizure cases and pre-notifications after decryption
 * (`records/view.py`). Every decrypted item is checked against the template it names *after*
 * decryption (`decodeItems`); one that does not fit is kept as *refused* with the field path
 * and the reason, and is never shown as content. Thread items (replies, reviews, discrepancy
 * findings) are small templates defined here, validated the same way. `buildCases` and
 * `buildPrenotifications` fold a group's items into cases (versions, thread, review status) and
 * pre-notifications (versions, discrepancies, signed status events); the filters run on the
 * decrypted fields, which the server never sees. Items are the SDK's archive JSON
 * (`Item.to_json`, snake_case), so the archive is the same in both clients.
 */
import { CordonCryptoError, fromHex, type Roster, verifyEvent } from "../crypto";
import type { Incoming } from "./incoming";
import { pyIsoFromMs } from "./incoming";
import { DISCREPANCY_KINDS, filterPrenotifications, type PrenotificationFilter, type RecordJson } from "./workflow";
import { InvalidContentError, type JsonObject, Template, TemplateError, TemplateRegistry } from "./templates";

export const CASE = "seizure_case";
export const CASE_AMENDMENT = "seizure_case_amendment";
export const REPLY = "case_reply";
export const REVIEW = "case_review";
export const PN = "prenotification";
export const PN_AMENDMENT = "prenotification_amendment";
export const PN_DISCREPANCY = "prenotification_discrepancy";
export const STATUS_EVENT = "status_event";
export const TEXT = "text";
export const VERDICTS = ["verified", "corrections_requested"] as const;
/** content type → [stream kind it must travel as, template id it must be written in]. */
export const CONTENT_RULES: Readonly<Record<string, readonly [string, string]>> = {
  [CASE]: ["alert", "seizure-case"],
  [CASE_AMENDMENT]: ["alert", "seizure-case"],
  [REPLY]: ["chat", "case-reply"],
  [REVIEW]: ["chat", "case-review"],
  [PN]: ["prenotification", "vaccine-prenotification"],
  [PN_AMENDMENT]: ["prenotification", "vaccine-prenotification"],
  [PN_DISCREPANCY]: ["prenotification", "prenotification-discrepancy"],
};
export const THREADED: ReadonlySet<string> = new Set([CASE_AMENDMENT, REPLY, REVIEW, PN_AMENDMENT, PN_DISCREPANCY]);

type Tri = readonly [string, string, string];
/** Thread-template labels: en, fr, es as the SDK's, then ru, ar, pt. */
const labels = (fields: Record<string, readonly [...Tri, string, string, string]>) =>
  Object.fromEntries(Object.entries(fields).map(([k, [en, fr, es, ru, ar, pt]]) => [k, { en, fr, es, ru, ar, pt }]));

function threadTemplate(id: string, properties: JsonObject, required: string[], labelSet: Record<string, Record<string, string>>): Template {
  const schema = { $schema: "https://json-schema.org/draft/2020-12/schema", type: "object", properties, required, additionalProperties: false };
  return Template.fromBody({ id, version: 1, title: id, default_form: "default", forms: { default: schema }, labels: labelSet });
}

const TEXT_FIELD = { type: "string", minLength: 1, maxLength: 10000 };
export const THREAD_TEMPLATES: readonly Template[] = [
  threadTemplate("case-reply", { text: TEXT_FIELD }, ["text"], labels({ text: ["Text", "Texte", "Texto", "Текст", "النص", "Texto"] })),
  threadTemplate("case-review", { verdict: { enum: [...VERDICTS] }, note: TEXT_FIELD }, ["verdict"], labels({
    verdict: ["Verdict", "Décision", "Dictamen", "Решение", "القرار", "Parecer"],
    note: ["Note", "Note", "Nota", "Примечание", "ملاحظة", "Nota"],
  })),
  threadTemplate(
    "prenotification-discrepancy",
    {
      kind: { enum: [...DISCREPANCY_KINDS] },
      details: TEXT_FIELD,
      lots: { type: "array", items: { type: "string", minLength: 1 } },
      quantity_found: { type: "number", minimum: 0 },
      temperature_c: { type: "number" },
    },
    ["kind", "details"],
    labels({
      kind: ["Discrepancy", "Anomalie", "Discrepancia", "Расхождение", "التباين", "Discrepância"],
      details: ["Findings", "Constatations", "Constataciones", "Выявленное", "النتائج", "Constatações"],
      lots: ["Lots concerned", "Lots concernés", "Lotes afectados", "Затронутые партии", "الدفعات المعنية", "Lotes em causa"],
      quantity_found: ["Quantity found", "Quantité constatée", "Cantidad encontrada", "Обнаруженное количество", "الكمية المعثور عليها", "Quantidade encontrada"],
      temperature_c: ["Temperature found (°C)", "Température (°C)", "Temperatura (°C)", "Температура (°C)", "درجة الحرارة (°م)", "Temperatura (°C)"],
    }),
  ),
];

/** The built-in templates plus the thread templates (reply, review, discrepancy). */
export function domainRegistry(): TemplateRegistry {
  const registry = new TemplateRegistry();
  for (const t of THREAD_TEMPLATES) registry.add(t);
  return registry;
}

/** One decrypted stream item as the domain sees it; `valid: false` items carry `error`. */
export interface Item {
  group_id: string;
  seq: number;
  kind: string;
  type: string;
  sender_user_id: string | null;
  sender_device_id: string | null;
  parent_seq: number | null;
  valid: boolean;
  error: string | null;
  template: Record<string, unknown> | null;
  data: Record<string, unknown> | null;
  routing: Record<string, unknown> | null;
  event: Record<string, unknown> | null;
  received_at: string;
  /** The sender's signed envelope time (PROTOCOL §5.1), ISO. */
  sent_at: string | null;
}

export const refuse = (item: Item, reason: string): Item => ({ ...item, valid: false, error: reason });

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function baseItem(m: { group_id: string; seq: number; kind: string; sender_user_id: string | null; sender_device_id: string | null; parent_seq: number | null; sent_at?: string | null }, type: string, valid: boolean, error: string | null = null): Item {
  return {
    group_id: m.group_id,
    seq: m.seq,
    kind: m.kind,
    type,
    sender_user_id: m.sender_user_id,
    sender_device_id: m.sender_device_id,
    parent_seq: m.parent_seq,
    valid,
    error,
    template: null,
    data: null,
    routing: null,
    event: null,
    received_at: pyIsoFromMs(Date.now()),
    sent_at: m.sent_at ?? null,
  };
}

/** Validate decrypted content against its template and the rules of its content type. */
export function contentItem(
  m: { group_id: string; seq: number; kind: string; sender_user_id: string | null; sender_device_id: string | null; parent_seq: number | null; sent_at?: string | null },
  content: Uint8Array,
  registry: TemplateRegistry,
  coordinators: ReadonlySet<string> | null = null,
): Item {
  const base = baseItem(m, TEXT, true);
  let raw: unknown = null;
  let text: string | null = null;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(content);
    raw = JSON.parse(text);
  } catch {
    raw = null;
  }
  if (!isObject(raw) || !Object.hasOwn(raw, "type")) {
    if (m.kind === "prenotification") return refuse(base, "(message): a pre-notification must be template content");
    return { ...base, data: { text: text ?? new TextDecoder().decode(content) } };
  }
  const type = String(raw.type);
  let checked;
  try {
    checked = registry.readContent(content);
  } catch (error) {
    if (error instanceof InvalidContentError) return { ...base, type, valid: false, error: error.message };
    if (error instanceof TemplateError) return { ...base, type, valid: false, error: `template: ${error.message}` };
    throw error;
  }
  const item: Item = {
    ...base,
    type: checked.type,
    template: { ...checked.template },
    data: { ...(checked.data as Record<string, unknown>) },
    routing: isObject(checked.routing) ? checked.routing : null,
  };
  const reason = ruleViolation(item, coordinators);
  return reason ? refuse(item, reason) : item;
}

function ruleViolation(item: Item, coordinators: ReadonlySet<string> | null): string | null {
  const rule = CONTENT_RULES[item.type];
  if (!rule || !Object.hasOwn(CONTENT_RULES, item.type)) return `type: '${item.type}' is not a known content type`;
  const [kind, templateId] = rule;
  if (item.kind !== kind) return `type: ${item.type} must travel as ${kind}, not ${item.kind}`;
  if (item.template === null || item.template.id !== templateId) return `template.id: ${item.type} must be written in ${templateId}`;
  if (THREADED.has(item.type) && item.parent_seq === null) return "parent_seq: is required (it names the case or pre-notification)";
  if (item.type === PN && item.routing === null) return "routing: a pre-notification must name its destination and transit users";
  if (item.type === REVIEW && coordinators !== null && !coordinators.has(String(item.sender_user_id))) return "sender: only a coordinator of the verified roster may review a case";
  return null;
}

/**
 * Domain items from a sync: validated after decryption, refused ones kept with a reason.
 * Items this device sent are skipped (it cannot decrypt its own envelopes; the archive holds
 * them from when they were sent). A status event comes back *unverified* until
 * `verifyStatusEvent` has checked its signature against the verified roster.
 */
export function decodeItems(incoming: Iterable<Incoming>, registry: TemplateRegistry, ownDevice: string | null = null, coordinators: ReadonlySet<string> | null = null): Item[] {
  const out: Item[] = [];
  for (const inc of incoming) {
    if (ownDevice !== null && inc.sender_device_id === ownDevice && inc.event === null) continue;
    if (inc.event !== null) {
      if (inc.kind === "prenotification_event") out.push({ ...baseItem({ ...inc, sent_at: null }, STATUS_EVENT, false, "not yet verified"), event: inc.event });
      continue;
    }
    if (!["alert", "chat", "prenotification"].includes(inc.kind)) continue;
    if (!inc.verified || inc.content === null) {
      out.push(baseItem({ ...inc, sent_at: null }, "refused", false, inc.error || "not verified"));
      continue;
    }
    out.push(contentItem(inc, inc.content, registry, coordinators));
  }
  return out;
}

/** Check a status event's signature under the acting device's key from the verified roster. */
export async function verifyStatusEvent(item: Item, roster: Roster, detail: Uint8Array | null): Promise<Item> {
  const event = item.event ?? {};
  try {
    const device = roster.device(String(event.actor_device_id));
    if (!device) return refuse(item, "signature: the acting device is not in the verified roster");
    if (device.memberId !== String(event.actor_user_id)) return refuse(item, "signature: the acting device belongs to another member");
    const sig = String(event.sig);
    if (!/^([0-9a-f]{2})*$/i.test(sig)) throw new TypeError("sig");
    const seq = Number(event.seq);
    const ts = Number(event.ts);
    if (!Number.isSafeInteger(seq) || !Number.isSafeInteger(ts)) throw new TypeError("seq/ts");
    await verifyEvent(device.signingKey, fromHex(sig), {
      groupId: roster.groupId,
      prenotificationId: String(event.prenotification_id),
      seq,
      fromStatus: String(event.from),
      toStatus: String(event.to),
      ts,
      detail,
    });
  } catch (error) {
    if (error instanceof CordonCryptoError) return refuse(item, error.message);
    return refuse(item, "status event: malformed");
  }
  return { ...item, valid: true, error: null };
}

/** The case or pre-notification a (possibly nested) thread item belongs to. */
export function threadRoot(items: ReadonlyMap<number, Item>, seq: number): number {
  const seen = new Set<number>();
  let here = seq;
  while (!seen.has(here)) {
    seen.add(here);
    const parent = items.get(here)?.parent_seq ?? null;
    if (parent === null || !items.has(parent)) return here;
    here = parent;
  }
  return here;
}

function recordOf(original: Item, versions: Item[], status: string, data: Record<string, unknown>, ids: Record<string, string | null> = {}): RecordJson {
  const template = versions[versions.length - 1]?.template ?? {};
  const meta = {
    seq: original.seq,
    ...ids,
    sender: String(original.sender_user_id),
    sent_at: original.sent_at,
    status,
    template: template.id ?? null,
    template_version: template.version ?? null,
    version: versions.length,
  };
  return { meta, data };
}

const bySeq = (a: Item, b: Item) => a.seq - b.seq;

/** A seizure case: its versions (original first), thread, reviews and refused items. */
export class CaseView {
  versions: Item[];
  replies: Item[] = [];
  reviews: Item[] = [];
  refused: Item[] = [];

  constructor(readonly original: Item) {
    this.versions = [original];
  }

  /** The case's seq in the group stream: its id. */
  get seq(): number {
    return this.original.seq;
  }

  /** The latest valid version. */
  get data(): Record<string, unknown> {
    return { ...(this.versions[this.versions.length - 1]?.data ?? {}) };
  }

  /** `unreviewed`, `verified`, `corrections_requested`, or `amended` (since a review). */
  get status(): string {
    const moves = [...this.versions.slice(1), ...this.reviews].sort(bySeq);
    const last = moves[moves.length - 1];
    if (!last) return "unreviewed";
    if (last.type === REVIEW) return String(last.data?.verdict);
    return this.reviews.length ? "amended" : "unreviewed";
  }

  record(): RecordJson {
    return recordOf(this.original, this.versions, this.status, this.data);
  }
}

/** Fold items into cases; amendments only count from the case's sender. */
export function buildCases(items: Iterable<Item>): CaseView[] {
  const map = new Map<number, Item>();
  for (const i of items) map.set(i.seq, i);
  const sorted = [...map.values()].sort(bySeq);
  const cases = new Map<number, CaseView>();
  for (const i of sorted) if (i.type === CASE && i.valid) cases.set(i.seq, new CaseView(i));
  for (const item of sorted) {
    if (item.type !== CASE_AMENDMENT && item.type !== REPLY && item.type !== REVIEW) continue;
    const view = cases.get(threadRoot(map, item.seq));
    if (!view) continue;
    if (!item.valid) view.refused.push(item);
    else if (item.type === CASE_AMENDMENT) {
      if (item.sender_user_id !== view.original.sender_user_id) view.refused.push(refuse(item, "sender: only the case's sender may amend it"));
      else view.versions.push(item);
    } else (item.type === REVIEW ? view.reviews : view.replies).push(item);
  }
  return [...cases.values()];
}

/** A pre-notification: versions, discrepancy findings, verified status events. */
export class PrenotificationView {
  versions: Item[];
  discrepancies: Item[] = [];
  events: Item[] = [];
  refused: Item[] = [];
  server: Record<string, unknown> | null = null;

  constructor(readonly original: Item) {
    this.versions = [original];
  }

  get seq(): number {
    return this.original.seq;
  }

  /** The server's id (the envelope's message id), once known from an event or a listing. */
  get id(): string | null {
    if (this.server !== null) return String(this.server.id);
    const first = this.events[0];
    if (first) return String(first.event?.prenotification_id);
    const id = this.original.routing?.prenotification_id;
    return typeof id === "string" ? id : null;
  }

  get data(): Record<string, unknown> {
    return { ...(this.versions[this.versions.length - 1]?.data ?? {}) };
  }

  /** The status after the last *verified* signed event (`sent` before any). */
  get status(): string {
    const last = this.events[this.events.length - 1];
    return last ? String(last.event?.to) : "sent";
  }

  /** What the server says, which may run ahead of what this device has verified. */
  get serverStatus(): string | null {
    return this.server !== null ? String(this.server.status) : null;
  }

  record(): RecordJson {
    return recordOf(this.original, this.versions, this.status, this.data, { id: this.id });
  }
}

/** Fold items into pre-notifications; amendments only count from the sender. */
export function buildPrenotifications(items: Iterable<Item>): PrenotificationView[] {
  const map = new Map<number, Item>();
  for (const i of items) map.set(i.seq, i);
  const sorted = [...map.values()].sort(bySeq);
  const views = new Map<number, PrenotificationView>();
  for (const i of sorted) if (i.type === PN && i.valid) views.set(i.seq, new PrenotificationView(i));
  for (const item of sorted) {
    if (item.type !== PN_AMENDMENT && item.type !== PN_DISCREPANCY && item.type !== STATUS_EVENT) continue;
    const view = item.parent_seq !== null ? views.get(item.parent_seq) : undefined;
    if (!view) continue;
    if (!item.valid) view.refused.push(item);
    else if (item.type === STATUS_EVENT) view.events.push(item);
    else if (item.type === PN_DISCREPANCY) view.discrepancies.push(item);
    else if (item.sender_user_id !== view.original.sender_user_id) view.refused.push(refuse(item, "sender: only the pre-notification's sender may amend"));
    else view.versions.push(item);
  }
  return [...views.values()];
}

export interface CaseFilter {
  status?: Iterable<string> | null;
  country?: string | null;
  handlingCode?: string | null;
}

/** Every country a case names (reporting, origin, departure, transit, destination). */
export function caseCountries(data: Record<string, unknown>): Set<unknown> {
  const countries = new Set<unknown>([data.reporting_country]);
  for (const report of Array.isArray(data.reports) ? data.reports : []) {
    if (!isObject(report)) continue;
    for (const key of ["origin_country", "departure_country", "destination_country"]) countries.add(report[key]);
    for (const c of Array.isArray(report.transit_countries) ? report.transit_countries : []) countries.add(c);
  }
  return countries;
}

/** Cases by review status, by any country they name, or by handling code. */
export function filterCases(cases: Iterable<CaseView>, f: CaseFilter = {}): CaseView[] {
  const wanted = f.status ? new Set(f.status) : null;
  const out: CaseView[] = [];
  for (const view of cases) {
    const data = view.data;
    if (wanted && !wanted.has(view.status)) continue;
    if (f.country != null && !caseCountries(data).has(f.country.toUpperCase())) continue;
    if (f.handlingCode != null && data.handling_code !== f.handlingCode.toUpperCase()) continue;
    out.push(view);
  }
  return out;
}

/** Pre-notifications by verified status, decrypted ETA, country and overdue. */
export function filterViews(views: Iterable<PrenotificationView>, f: PrenotificationFilter = {}): PrenotificationView[] {
  const pairs = [...views].map((v) => ({ ...v.record(), view: v }));
  return filterPrenotifications(pairs, f).map((p) => p.view);
}

