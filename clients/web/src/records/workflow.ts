/**
 * The pre-notification workflow as a client sees it (`records/workflow.py`): the state machine,
 * signed status events, filters over decrypted pre-notifications, and discrepancy → seizure
 * case in one step. The server enforces the same table (`app/prenotifications/workflow.py`,
 * docs/workflows.md); the client uses it to offer only the moves that will be accepted and to
 * check the history it is shown. The event signature itself is PROTOCOL §12
 * (`crypto/authority.ts`: `eventSigningInput`, `verifyEvent`).
 */
import { eventSigningInput, sign, type SigningKey, type StatusEvent } from "../crypto";
import type { Json, JsonObject } from "./templates";

export const SENDER = "sender";
export const DESTINATION = "destination";
export const COORDINATOR = "coordinator";
export type Capacity = typeof SENDER | typeof DESTINATION | typeof COORDINATOR;

export const STATUSES = ["sent", "acknowledged", "arrived", "cleared", "closed", "amended", "cancelled", "discrepancy"] as const;
export type Status = (typeof STATUSES)[number];
export const TERMINAL: ReadonlySet<string> = new Set(["closed", "cancelled"]);
/** `from>to` → who may make the move. */
export const TRANSITIONS: ReadonlyMap<string, ReadonlySet<Capacity>> = new Map<string, ReadonlySet<Capacity>>([
  ["sent>acknowledged", new Set([DESTINATION])],
  ["amended>acknowledged", new Set([DESTINATION])],
  ["acknowledged>arrived", new Set([DESTINATION])],
  ["arrived>cleared", new Set([DESTINATION])],
  ["discrepancy>cleared", new Set([DESTINATION])],
  ["acknowledged>discrepancy", new Set([DESTINATION])],
  ["arrived>discrepancy", new Set([DESTINATION])],
  ["sent>amended", new Set([SENDER])],
  ["acknowledged>amended", new Set([SENDER])],
  ["amended>amended", new Set([SENDER])],
  ["sent>cancelled", new Set([SENDER])],
  ["acknowledged>cancelled", new Set([SENDER])],
  ["amended>cancelled", new Set([SENDER])],
  ["cleared>closed", new Set([SENDER, COORDINATOR])],
  ["discrepancy>closed", new Set([SENDER, COORDINATOR])],
]);
export const DETAIL_REQUIRED: ReadonlySet<string> = new Set(["amended", "discrepancy"]);
export const DISCREPANCY_KINDS = ["quantity", "temperature", "suspected_falsification"] as const;
export const AWAITING_ACK: ReadonlySet<string> = new Set(["sent", "amended"]);

/** The statuses a user acting in these capacities may move a pre-notification to, sorted. */
export function allowedMoves(status: string, capacities: Iterable<string>): string[] {
  const held = new Set(capacities);
  const out: string[] = [];
  for (const [move, who] of TRANSITIONS) {
    const [from, to] = move.split(">") as [string, string];
    if (from === status && [...who].some((c) => held.has(c))) out.push(to);
  }
  return out.sort();
}

/** Sign one status transition with the acting device's key (hex, as the server stores `sig`). */
export async function signEvent(key: SigningKey, event: StatusEvent): Promise<Uint8Array> {
  return sign(key, eventSigningInput(event));
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
/** Python's `dict.get(key, default)`: the default only when the key is absent. */
const get = (o: Record<string, unknown>, key: string, fallback: Json): unknown => (Object.hasOwn(o, key) ? o[key] : fallback);

/** The decrypted ETA (ms), if the data has a valid one. */
export function etaOf(data: Record<string, unknown>): number | null {
  const transport = isObject(data.transport) ? data.transport : {};
  const raw = transport.eta;
  if (typeof raw !== "string") return null;
  const ms = Date.parse(raw.replace(/[+-]00:00$/, "Z"));
  return Number.isNaN(ms) ? null : ms;
}

/** Not acknowledged by its ETA: still awaiting acknowledgement and the ETA has passed. */
export function isOverdue(status: string, data: Record<string, unknown>, nowMs: number): boolean {
  const eta = etaOf(data);
  return AWAITING_ACK.has(status) && eta !== null && eta <= nowMs;
}

export interface RecordJson {
  meta: Record<string, unknown>;
  data: Record<string, unknown>;
}

export interface PrenotificationFilter {
  status?: Iterable<string> | null;
  etaFrom?: number | null;
  etaTo?: number | null;
  country?: string | null;
  overdue?: boolean | null;
  nowMs?: number;
}

/**
 * Filter decrypted records `{meta: {status, …}, data}` on their fields. ETA and countries are
 * encrypted, so these filters run here after decryption; `country` matches the sender,
 * destination or a transit country.
 */
export function filterPrenotifications<R extends RecordJson>(records: Iterable<R>, f: PrenotificationFilter = {}): R[] {
  const wanted = f.status ? new Set(f.status) : null;
  const now = f.nowMs ?? Date.now();
  const out: R[] = [];
  for (const record of records) {
    const { meta, data } = record;
    const eta = etaOf(data);
    const transit = Array.isArray(data.transit_countries) ? data.transit_countries : [];
    const countries = new Set([data.sender_country, data.destination_country, ...transit]);
    if (wanted && !wanted.has(String(meta.status))) continue;
    if (f.etaFrom != null && (eta === null || eta < f.etaFrom)) continue;
    if (f.etaTo != null && (eta === null || eta > f.etaTo)) continue;
    if (f.country != null && !countries.has(f.country.toUpperCase())) continue;
    if (f.overdue != null && isOverdue(String(meta.status), data, now) !== f.overdue) continue;
    out.push(record);
  }
  return out;
}

/** Drop absent (null / empty) fields so the schema sees only what is known. */
function compact(value: Record<string, unknown>): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === null || v === undefined || (Array.isArray(v) && !v.length) || (isObject(v) && !Object.keys(v).length)) continue;
    out[k] = v as Json;
  }
  return out;
}

/**
 * A seizure case pre-filled from a pre-notification in discrepancy (full form data): route,
 * transport, product and lots carry over. It still needs what only the seizing officer knows
 * (detection, outcome), so validate it against the template before sending.
 */
export function discrepancyToCase(
  pn: Record<string, unknown>,
  o: { reportingCountry: string; kind: string; seizureDate?: string; placeType?: string; lots?: Iterable<string> | null; remarks?: string | null },
): JsonObject {
  if (!(DISCREPANCY_KINDS as readonly string[]).includes(o.kind)) throw new Error(`kind must be one of ${DISCREPANCY_KINDS.join(", ")}`);
  const product = (isObject(pn.product) ? pn.product : {}) as Record<string, Json>;
  const transport = (isObject(pn.transport) ? pn.transport : {}) as Record<string, Json>;
  const chosen = o.lots ? new Set(o.lots) : null;
  const words = o.kind.replace(/_/g, " ");
  const lots = (Array.isArray(pn.lots) ? pn.lots : []) as Record<string, Json>[];
  const items = lots
    .filter((lot) => chosen === null || chosen.has(String(lot.lot_number)))
    .map((lot) =>
      compact({
        category: "vaccines",
        description: `${product.trade_name ?? ""} (${product.vaccine_type ?? ""}) – discrepancy: ${words}`,
        hs_code: get(product, "hs_code", "3002.41"),
        brand: product.trade_name,
        inn: product.vaccine_type,
        quantity: lot.quantity,
        unit: "DOS",
        batch: lot.lot_number,
        expiry_date: lot.expiry_date,
      }),
    );
  const document = transport.awb_master || transport.bill_of_lading;
  const reportTransport = {
    mode: transport.mode,
    flight_voyage: transport.flight_voyage,
    document_type: transport.awb_master ? "AWB" : transport.bill_of_lading ? "BL" : null,
    document_number: document,
  };
  const report = compact({
    seizure_date: o.seizureDate ?? new Date().toISOString().slice(0, 10),
    place_type: o.placeType ?? "airport",
    direction: "import",
    departure_country: pn.sender_country,
    transit_countries: Array.isArray(pn.transit_countries) ? [...pn.transit_countries] : [],
    destination_country: pn.destination_country,
    transport: compact(reportTransport),
    ipr: o.kind === "suspected_falsification" ? { infringement: "substandard_falsified" } : null,
    items,
  });
  return compact({
    operation: pn.operation,
    reporting_country: o.reportingCountry,
    handling_code: get(pn, "handling_code", "H2"),
    source_reliability: get(pn, "source_reliability", "A"),
    information_accuracy: get(pn, "information_accuracy", 1),
    reports: [report],
    remarks: o.remarks || `Opened from pre-notification ${get(pn, "notification_id", "") ?? "None"} after a ${words} discrepancy.`,
  });
}
