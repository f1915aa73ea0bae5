/**
 * What travels inside a pre-notification's envelopes, as the Python SDK writes it
 * (`templates/registry.py: make_content`, `prenotifications/operations.py: _with_routing`,
 * the pre-notification rules of `records/view.py`): the JSON content of the original, an
 * amendment and a discrepancy finding, and the checks a receiver runs *after* decryption.
 * Validating `data` against the group's template is the template layer's (injected as
 * `validate`); the small discrepancy template is checked here. No UI imports.
 */
import { DISCREPANCY_KINDS } from "./workflow";

export const PN = "prenotification";
export const PN_AMENDMENT = "prenotification_amendment";
export const PN_DISCREPANCY = "prenotification_discrepancy";
export const PN_TEMPLATE = "vaccine-prenotification";
export const DISCREPANCY_TEMPLATE = "prenotification-discrepancy";
export type PnType = typeof PN | typeof PN_AMENDMENT | typeof PN_DISCREPANCY;

const TEMPLATE_OF: Record<PnType, string> = { [PN]: PN_TEMPLATE, [PN_AMENDMENT]: PN_TEMPLATE, [PN_DISCREPANCY]: DISCREPANCY_TEMPLATE };

export interface TemplateRef {
  id: string;
  version: number;
  form: string;
}

/** Who a pre-notification is for, repeated inside the encryption (the server's list is not trusted). */
export interface Routing {
  prenotification_id: string;
  destination: string[];
  transit: string[];
}

export interface PnContent {
  type: PnType;
  template: TemplateRef;
  data: Record<string, unknown>;
  routing?: Routing;
}

/** One field's problem: dotted path (`lots.0.quantity`, `""` for the whole) and the reason. */
export interface FieldProblem {
  path: string;
  message: string;
}

/** The template layer's check of `data` against the version it names (empty: valid). */
export type Validate = (template: TemplateRef, data: unknown) => FieldProblem[];

/** Encode content as the SDK does (compact JSON, UTF-8, keys in this order). */
export function encodeContent(content: PnContent): Uint8Array {
  const ordered: Record<string, unknown> = { type: content.type, template: { id: content.template.id, version: content.template.version, form: content.template.form }, data: content.data };
  if (content.routing) ordered.routing = { prenotification_id: content.routing.prenotification_id, destination: content.routing.destination, transit: content.routing.transit };
  return new TextEncoder().encode(JSON.stringify(ordered));
}

export const DISCREPANCY_REF: TemplateRef = { id: DISCREPANCY_TEMPLATE, version: 1, form: "default" };

/** The findings a destination records: the SDK's `prenotification-discrepancy` template. */
export interface Discrepancy {
  kind: string;
  details: string;
  lots?: string[];
  quantity_found?: number;
  temperature_c?: number;
}

const DISCREPANCY_FIELDS = new Set(["kind", "details", "lots", "quantity_found", "temperature_c"]);

/** The discrepancy template's rules (`records/view.py: THREAD_TEMPLATES`), field by field. */
export function discrepancyProblems(data: unknown): FieldProblem[] {
  if (typeof data !== "object" || data === null || Array.isArray(data)) return [{ path: "", message: "must be an object" }];
  const d = data as Record<string, unknown>;
  const out: FieldProblem[] = [];
  for (const key of Object.keys(d)) if (!DISCREPANCY_FIELDS.has(key)) out.push({ path: key, message: "is not a field of this form" });
  if (!(DISCREPANCY_KINDS as readonly unknown[]).includes(d.kind)) out.push({ path: "kind", message: `must be one of ${DISCREPANCY_KINDS.join(", ")}` });
  if (typeof d.details !== "string" || d.details.length < 1 || [...d.details].length > 10000) out.push({ path: "details", message: "must be 1 to 10000 characters" });
  if (d.lots !== undefined && !(Array.isArray(d.lots) && d.lots.every((l) => typeof l === "string" && l.length > 0))) out.push({ path: "lots", message: "must be a list of lot numbers" });
  const number = (v: unknown) => typeof v === "number" && Number.isFinite(v);
  if (d.quantity_found !== undefined && !(number(d.quantity_found) && (d.quantity_found as number) >= 0)) out.push({ path: "quantity_found", message: "must be a number, 0 or more" });
  if (d.temperature_c !== undefined && !number(d.temperature_c)) out.push({ path: "temperature_c", message: "must be a number" });
  return out;
}

/** A discrepancy finding as content, refused before anything is sealed if it does not fit. */
export function discrepancyContent(data: Discrepancy): PnContent {
  const problems = discrepancyProblems(data);
  if (problems.length) throw new ContentError(problems);
  return { type: PN_DISCREPANCY, template: DISCREPANCY_REF, data: { ...data } };
}

export class ContentError extends Error {
  constructor(readonly problems: FieldProblem[]) {
    super(problems.map((p) => `${p.path || "(content)"}: ${p.message}`).join("; "));
    this.name = "ContentError";
  }
}

const isUuid = (v: unknown) => typeof v === "string" && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(v);

function routingOf(value: unknown): Routing | null {
  const r = value as Record<string, unknown>;
  if (typeof value !== "object" || value === null || !isUuid(r.prenotification_id)) return null;
  if (!Array.isArray(r.destination) || !r.destination.length || !r.destination.every(isUuid)) return null;
  if (!Array.isArray(r.transit) || !r.transit.every(isUuid)) return null;
  return { prenotification_id: r.prenotification_id as string, destination: r.destination as string[], transit: r.transit as string[] };
}

/**
 * Read decrypted content that arrived as a `prenotification` stream item, with the SDK's
 * rules: template content only, a known pre-notification type in its own template, a thread
 * item names its parent, the original names its routing, the data fits its template. Throws
 * `ContentError` (the item is then refused, never shown as content).
 */
export function readContent(raw: Uint8Array, parentSeq: number | null, validate: Validate): PnContent {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(raw));
  } catch {
    parsed = null;
  }
  const c = parsed as Record<string, unknown>;
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed) || typeof c.type !== "string") {
    throw new ContentError([{ path: "(message)", message: "a pre-notification must be template content" }]);
  }
  const type = c.type;
  if (!Object.hasOwn(TEMPLATE_OF, type)) throw new ContentError([{ path: "type", message: `${JSON.stringify(type)} is not a pre-notification content type` }]);
  const t = c.template as Record<string, unknown>;
  if (typeof t !== "object" || t === null || typeof t.id !== "string" || typeof t.version !== "number" || !Number.isSafeInteger(t.version)) {
    throw new ContentError([{ path: "template", message: "content names no template" }]);
  }
  if (t.id !== TEMPLATE_OF[type as PnType]) throw new ContentError([{ path: "template.id", message: `${type} must be written in ${TEMPLATE_OF[type as PnType]}` }]);
  if (type !== PN && parentSeq === null) throw new ContentError([{ path: "parent_seq", message: "is required (it names the pre-notification)" }]);
  const routing = type === PN ? routingOf(c.routing) : null;
  if (type === PN && routing === null) throw new ContentError([{ path: "routing", message: "a pre-notification must name its destination and transit users" }]);
  const ref: TemplateRef = { id: t.id, version: t.version, form: typeof t.form === "string" ? t.form : "" };
  const problems = type === PN_DISCREPANCY ? discrepancyProblems(c.data) : validate(ref, c.data);
  if (problems.length) throw new ContentError(problems);
  const out: PnContent = { type: type as PnType, template: ref, data: c.data as Record<string, unknown> };
  if (routing) out.routing = routing;
  return out;
}
