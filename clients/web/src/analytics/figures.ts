/**
 * The operation's figures as a pure function of the decrypted, verified archive: the port of
 * `cordon_client/analytics/figures.py`. `analyse(items, params)` folds a group's archived items
 * into the table docs/ANALYTICS.md defines field by field; it reads no clock, storage or
 * network, so both clients give the same table for the same archive, which the shared fixture
 * tests/fixtures/analytics/ checks (tests/unit/analytics.test.ts). Regions and vocabularies are
 * the Python package's own JSON, bundled at build time (one source of truth).
 *
 * Quantities are summed as exact decimals (BigInt at a fixed scale), as the SDK sums
 * `Decimal(str(q))`, so 0.1 + 0.2 gives 0.3 in both.
 */
import regionFile from "../../../python/cordon_client/analytics/regions.json";
import { buildCases, buildPrenotifications, CASE, CASE_AMENDMENT, type CaseView, type Item, PN, PN_AMENDMENT, PN_DISCREPANCY, type PrenotificationView, STATUS_EVENT } from "../records/view";
import { vocabularies } from "../records/templates";
import { DISCREPANCY_KINDS, isOverdue } from "../records/workflow";

export const PIECE_UNITS: ReadonlySet<string> = new Set(["PCE", "DOS"]);
export const FIGURE_OF_CATEGORY: Readonly<Record<string, string>> = {
  medicines: "medicines",
  medical_devices: "medical_devices",
  ppe: "medical_devices",
  test_kits: "medical_devices",
  vaccines: "vaccine_doses",
  other: "other",
};
export const PIECE_FIGURES = ["medicines", "medical_devices", "vaccine_doses", "other"] as const;
const ECOMMERCE_MODES: ReadonlySet<unknown> = new Set(["postal", "express_courier"]);
const ECOMMERCE_PLACES: ReadonlySet<unknown> = new Set(["postal_centre", "express_hub"]);
export const NO_REGION = "?";
export const NO_PHASE = "-";
const TOP_ROUTES = 10;
const REASON_MAX = 200;
const WHAT_OF_TYPE: Readonly<Record<string, string>> = {
  [CASE]: "case",
  [CASE_AMENDMENT]: "case_amendment",
  [PN]: "prenotification",
  [PN_AMENDMENT]: "prenotification_amendment",
  [PN_DISCREPANCY]: "discrepancy",
  [STATUS_EVENT]: "status_event",
};
const WHAT_OF_KIND: Readonly<Record<string, string>> = { alert: "alert", prenotification: "prenotification", prenotification_event: "status_event" };

/** A named phase of the operation, ISO dates inclusive. */
export interface Phase {
  name: string;
  start: string;
  end: string;
}

/** What to compute over: the period (inclusive ISO dates, open ends allowed), phases, and now. */
export interface Params {
  start: string | null;
  end: string | null;
  phases: readonly Phase[];
  nowMs: number;
  phase: string | null;
}

export const holds = (p: Params, day: string): boolean => (p.start === null || p.start <= day) && (p.end === null || day <= p.end);

/** The fixture's params (`Params.to_json`); `phase` (a name) sets the period to that phase. */
export function paramsFromJson(raw: Record<string, unknown>): Params {
  const phases = ((raw.phases as Record<string, unknown>[] | null) ?? []).map((p) => ({ name: String(p.name), start: String(p.from), end: String(p.to) }));
  let start = raw.from ? String(raw.from) : null;
  let end = raw.to ? String(raw.to) : null;
  const name = raw.phase == null ? null : String(raw.phase);
  if (name !== null) {
    const chosen = phases.find((p) => p.name === name);
    if (!chosen) throw new Error(`phase '${name}' is not one of the phases given`);
    ({ start, end } = chosen);
  }
  return { start, end, phases, nowMs: raw.now ? utcMs(String(raw.now)) : 0, phase: name };
}

const regionMap = (regionFile as unknown as { regions: Record<string, string> }).regions;

/** The WCO region of a country, `?` when unknown. */
export const regionOf = (country: string | null | undefined): string => (country && Object.hasOwn(regionMap, country) ? (regionMap[country] as string) : NO_REGION);

export const codes = (vocabulary: string): string[] => (vocabularies[vocabulary] ?? []).map((e) => String(e.code));

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
/** Python's `str(x)` for the JSON values a template can hold. */
const pyStr = (v: unknown): string => (v === null || v === undefined ? "None" : v === true ? "True" : v === false ? "False" : String(v));
const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const cmpTuple = (a: readonly string[], b: readonly string[]): number => {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const c = cmp(a[i] as string, b[i] as string);
    if (c) return c;
  }
  return a.length - b.length;
};

/** An ISO moment in ms; a naive one is UTC, as the SDK's `_utc`. */
export function utcMs(text: string): number {
  const t = text.replace(/[zZ]$/, "+00:00");
  return Date.parse(/T.*([+-]\d{2}:?\d{2})$/.test(t) || !t.includes("T") ? t : `${t}Z`);
}

// -- exact decimals ----------------------------------------------------------------------------

const SCALE = 24;
const ONE = 10n ** BigInt(SCALE);
type Dec = bigint;

function dec(value: unknown): Dec {
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:e([+-]?\d+))?$/i.exec(String(typeof value === "number" ? value : Number(value ?? 0)));
  if (!m) return 0n;
  const [, sign, whole, frac = "", exp = "0"] = m;
  const shift = SCALE - frac.length + Number(exp);
  const digits = BigInt(`${whole}${frac}`);
  const scaled = shift >= 0 ? digits * 10n ** BigInt(shift) : digits / 10n ** BigInt(-shift);
  return sign ? -scaled : scaled;
}

/** An exact sum as JSON: an integer when whole. */
function num(value: Dec): number {
  const neg = value < 0n;
  const abs = neg ? -value : value;
  const whole = abs / ONE;
  const frac = (abs % ONE).toString().padStart(SCALE, "0").replace(/0+$/, "");
  return Number(`${neg ? "-" : ""}${whole}${frac ? `.${frac}` : ""}`);
}

/** Python's `round(x, digits)`: half to even on the double's exact value. */
export function pyRound(x: number, digits: number): number {
  const exact = x.toFixed(Math.min(100, digits + 60));
  const point = exact.indexOf(".");
  const rest = exact.slice(point + 1 + digits);
  if (/^50*$/.test(rest)) {
    const kept = exact.slice(0, point + 1 + digits).replace(/\.$/, "");
    const last = Number(kept[kept.length - 1]);
    if (last % 2 === 0) return Number(kept);
  }
  return Number(x.toFixed(digits));
}

// -- cases -------------------------------------------------------------------------------------

type Pieces = Map<string, Dec>;
type Report = Record<string, unknown>;

/** A counted case with what every figure needs, computed once. */
export interface CountedCase {
  view: CaseView;
  day: string;
  country: string;
  reports: Report[];
  pieces: Pieces;
  otherUnits: Map<string, Dec>;
}

const add = <K>(map: Map<K, Dec>, key: K, value: Dec) => map.set(key, (map.get(key) ?? 0n) + value);
const bump = (map: Map<string, number>, key: string, by = 1) => map.set(key, (map.get(key) ?? 0) + by);
const piecesTotal = (c: CountedCase): Dec => [...c.pieces.values()].reduce((a, b) => a + b, 0n);
const itemsOf = (report: Report): Record<string, unknown>[] => (Array.isArray(report.items) ? report.items : []).filter(isObject);

/** A case's counted form, or null when no report has a seizure date. */
export function countedCase(view: CaseView): CountedCase | null {
  const data = view.data;
  const reports = (Array.isArray(data.reports) ? data.reports : []).filter(isObject);
  const days = reports.filter((r) => r.seizure_date).map((r) => String(r.seizure_date));
  if (!days.length) return null;
  const pieces: Pieces = new Map();
  const other = new Map<string, Dec>();
  for (const report of reports) {
    for (const item of itemsOf(report)) {
      const quantity = dec(Object.hasOwn(item, "quantity") ? item.quantity : 0);
      const category = pyStr(item.category);
      const unit = pyStr(item.unit);
      if (PIECE_UNITS.has(unit)) add(pieces, FIGURE_OF_CATEGORY[category] ?? "other", quantity);
      else add(other, JSON.stringify([unit, category]), quantity);
    }
  }
  return { view, day: days.reduce((a, b) => (b < a ? b : a)), country: pyStr(data.reporting_country), reports, pieces, otherUnits: other };
}

function sumPieces(cases: Iterable<CountedCase>): Pieces {
  const total: Pieces = new Map();
  for (const c of cases) for (const [name, value] of c.pieces) add(total, name, value);
  return total;
}

function piecesJson(pieces: Pieces): Record<string, number> {
  const out: Record<string, number> = {};
  let total = 0n;
  for (const name of PIECE_FIGURES) {
    out[name] = num(pieces.get(name) ?? 0n);
    total += pieces.get(name) ?? 0n;
  }
  out.total = num(total);
  return out;
}

export const phaseOf = (day: string, phases: readonly Phase[]): string => phases.find((p) => p.start <= day && day <= p.end)?.name ?? NO_PHASE;

/** ISO week of an ISO date, `2021-W05`. */
export function weekOf(day: string): string {
  const [y, m, d] = day.split("-").map(Number) as [number, number, number];
  const date = new Date(Date.UTC(y, m - 1, d));
  const weekday = (date.getUTCDay() + 6) % 7;
  date.setUTCDate(date.getUTCDate() - weekday + 3);
  const year = date.getUTCFullYear();
  const week = 1 + Math.floor((date.getTime() - Date.UTC(year, 0, 1)) / 86400000 / 7);
  return `${year}-W${String(week).padStart(2, "0")}`;
}

function countReports(cases: readonly CountedCase[], key: string, sub: string | null = null): Map<string, number> {
  const out = new Map<string, number>();
  for (const c of cases) {
    for (const report of c.reports) {
      const holder = sub ? (Object.hasOwn(report, sub) ? report[sub] : {}) : report;
      const value = isObject(holder) ? holder[key] : undefined;
      bump(out, value !== null && value !== undefined ? pyStr(value) : "not_given");
    }
  }
  return out;
}

function inOrder(counts: Map<string, number>, order: readonly string[], extra: string | null = null): Record<string, number> {
  const out: Record<string, number> = {};
  for (const code of order) out[code] = counts.get(code) ?? 0;
  if (extra !== null) out[extra] = counts.get(extra) ?? 0;
  return out;
}

const groupRows = (cases: readonly CountedCase[]) => ({ cases: cases.length, seizure_reports: cases.reduce((n, c) => n + c.reports.length, 0) });

function keyFigures(cases: readonly CountedCase[]) {
  return { members_reporting: new Set(cases.map((c) => c.country)).size, ...groupRows(cases), pieces: piecesJson(sumPieces(cases)) };
}

function groupBy(cases: readonly CountedCase[], key: (c: CountedCase) => string): Map<string, CountedCase[]> {
  const out = new Map<string, CountedCase[]>();
  for (const c of cases) {
    const k = key(c);
    const list = out.get(k);
    if (list) list.push(c);
    else out.set(k, [c]);
  }
  return out;
}

function byRegion(cases: readonly CountedCase[]) {
  const grouped = groupBy(cases, (c) => regionOf(c.country));
  const order = [...codes("regions"), ...(grouped.has(NO_REGION) ? [NO_REGION] : [])];
  return order.map((region) => ({ region, ...keyFigures(grouped.get(region) ?? []) }));
}

function byCountry(cases: readonly CountedCase[]) {
  const rows = [...groupBy(cases, (c) => c.country)].map(([country, members]) => ({ country, region: regionOf(country), ...groupRows(members), pieces: piecesJson(sumPieces(members)) }));
  return rows.sort((a, b) => b.cases - a.cases || cmp(a.country, b.country));
}

function rowsBy<L extends string>(label: L, grouped: Map<string, CountedCase[]>, order: readonly string[]) {
  return order.map((name) => {
    const members = grouped.get(name) ?? [];
    return { [label]: name, ...groupRows(members), pieces_total: num(members.reduce((a, c) => a + piecesTotal(c), 0n)) } as Record<L, string> & ReturnType<typeof groupRows> & { pieces_total: number };
  });
}

function byCategory(cases: readonly CountedCase[]) {
  const counts = new Map<string, number>();
  for (const c of cases) for (const report of c.reports) for (const category of new Set(itemsOf(report).map((i) => pyStr(i.category)))) bump(counts, category);
  return inOrder(counts, codes("goods_categories"));
}

const transportOf = (report: Report): Record<string, unknown> => (isObject(report.transport) ? report.transport : {});

function channels(cases: readonly CountedCase[]) {
  let ftz = 0;
  let ecommerce = 0;
  for (const c of cases) {
    for (const report of c.reports) {
      ftz += report.place_type === "free_trade_zone" ? 1 : 0;
      ecommerce += ECOMMERCE_MODES.has(transportOf(report).mode) || ECOMMERCE_PLACES.has(report.place_type) ? 1 : 0;
    }
  }
  return { free_trade_zone: ftz, ecommerce_postal: ecommerce };
}

function concealment(cases: readonly CountedCase[]) {
  let given = 0;
  let all = 0;
  for (const c of cases) {
    for (const r of c.reports) {
      all += 1;
      if (isObject(r.detection) && r.detection.concealment) given += 1;
    }
  }
  return { reported: given, not_reported: all - given };
}

export const routeOf = (report: Record<string, unknown>): [string, string] => [pyStr(report.departure_country), pyStr(report.destination_country)];

function topRoutes(cases: readonly CountedCase[]) {
  const reports = new Map<string, number>();
  const holders = new Map<string, Set<number>>();
  for (const c of cases) {
    for (const report of c.reports) {
      const key = JSON.stringify(routeOf(report));
      bump(reports, key);
      holders.set(key, (holders.get(key) ?? new Set()).add(c.view.seq));
    }
  }
  const ranked = [...reports.keys()].sort((a, b) => (reports.get(b) as number) - (reports.get(a) as number) || cmpTuple(JSON.parse(a), JSON.parse(b))).slice(0, TOP_ROUTES);
  return ranked.map((key) => {
    const [departure, destination] = JSON.parse(key) as [string, string];
    return { departure, destination, seizure_reports: reports.get(key) as number, cases: (holders.get(key) as Set<number>).size };
  });
}

function firstSeen(every: readonly CountedCase[], params: Params) {
  const keysOf = (c: CountedCase): [Set<string>, Set<string>] => [
    new Set(c.reports.flatMap((r) => itemsOf(r).map((i) => JSON.stringify([pyStr(i.category), pyStr(i.hs_code)])))),
    new Set(c.reports.map((r) => JSON.stringify(routeOf(r)))),
  ];
  const tables = [0, 1].map(() => ({ first: new Map<string, string>(), counted: new Map<string, number>() }));
  for (const c of every) {
    keysOf(c).forEach((found, index) => {
      const table = tables[index] as (typeof tables)[number];
      for (const key of found) {
        const known = table.first.get(key);
        if (known === undefined || c.day < known) table.first.set(key, c.day);
        if (holds(params, c.day)) bump(table.counted, key);
      }
    });
  }
  const names = [
    ["category", "hs_code"],
    ["departure", "destination"],
  ] as const;
  const out = names.map(([a, b], index) => {
    const table = tables[index] as (typeof tables)[number];
    const seen = [...table.first].filter(([, day]) => holds(params, day)).map(([key, day]) => [day, ...(JSON.parse(key) as [string, string])] as [string, string, string]);
    return seen.sort(cmpTuple).map(([day, x, y]) => ({ [a]: x, [b]: y, first_date: day, cases: table.counted.get(JSON.stringify([x, y])) ?? 0 }));
  });
  return { product_types: out[0], routes: out[1] };
}

// -- pre-notifications -------------------------------------------------------------------------

const sentText = (view: PrenotificationView): string => view.original.sent_at || view.original.received_at;

function firstEventTs(view: PrenotificationView, status: string): number | null {
  for (const event of view.events) if ((event.event ?? {}).to === status) return Math.trunc(Number(event.event?.ts));
  return null;
}

function etaMs(view: PrenotificationView): number | null {
  const transport = isObject(view.data.transport) ? view.data.transport : {};
  return transport.eta ? Math.trunc(utcMs(String(transport.eta))) : null;
}

function median(sorted: readonly number[]): number {
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function prenotifications(views: readonly PrenotificationView[], params: Params) {
  const period = views.filter((v) => holds(params, sentText(v).slice(0, 10)));
  const live = period.filter((v) => v.status !== "cancelled");
  const hours: number[] = [];
  let beforeEta = 0;
  let acknowledged = 0;
  let arrived = 0;
  let withDiscrepancy = 0;
  const kinds = new Map<string, number>();
  for (const view of live) {
    const ack = firstEventTs(view, "acknowledged");
    if (ack !== null) {
      acknowledged += 1;
      hours.push((ack / 1000 - utcMs(sentText(view)) / 1000) / 3600);
      const eta = etaMs(view);
      beforeEta += eta !== null && ack < eta ? 1 : 0;
    }
    arrived += firstEventTs(view, "arrived") !== null ? 1 : 0;
    const found = view.discrepancies.map((d) => pyStr((d.data ?? {}).kind));
    for (const kind of found) bump(kinds, kind);
    withDiscrepancy += found.length ? 1 : 0;
  }
  const ordered = [...hours].sort((a, b) => a - b);
  const doses = live.reduce((n, v) => {
    const product = isObject(v.data.product) ? v.data.product : {};
    return n + Math.trunc(Number(Object.hasOwn(product, "doses") ? product.doses : 0));
  }, 0);
  return {
    sent: period.length,
    cancelled: period.length - live.length,
    doses,
    acknowledged,
    acknowledged_before_eta: beforeEta,
    share_acknowledged_before_eta: live.length ? pyRound(beforeEta / live.length, 4) : null,
    hours_to_first_ack: {
      median: ordered.length ? pyRound(median(ordered), 2) : null,
      p90: ordered.length ? pyRound(ordered[Math.ceil(0.9 * ordered.length) - 1] as number, 2) : null,
      max: ordered.length ? pyRound(ordered[ordered.length - 1] as number, 2) : null,
    },
    arrived,
    discrepancies: { ...Object.fromEntries(DISCREPANCY_KINDS.map((k) => [k, kinds.get(k) ?? 0])), prenotifications_with_discrepancy: withDiscrepancy },
    overdue: live.filter((v) => isOverdue(v.status, v.data, params.nowMs)).length,
  };
}

// -- not counted -------------------------------------------------------------------------------

function whatOf(item: Item): string | null {
  if (Object.hasOwn(WHAT_OF_TYPE, item.type)) return WHAT_OF_TYPE[item.type] as string;
  if (!item.valid) return WHAT_OF_KIND[item.kind] ?? null;
  return null;
}

export interface NotCounted {
  what: string;
  reason: string;
  count: number;
}

function notCounted(items: readonly Item[], cases: readonly CaseView[], views: readonly PrenotificationView[], undated: readonly CaseView[]): NotCounted[] {
  const counted = new Set<number>();
  const folded = new Map<number, string>();
  for (const c of cases) {
    for (const i of c.versions) counted.add(i.seq);
    for (const i of c.refused) folded.set(i.seq, i.error || "");
  }
  for (const v of views) {
    for (const i of [...v.versions, ...v.discrepancies, ...v.events]) counted.add(i.seq);
    for (const i of v.refused) folded.set(i.seq, i.error || "");
  }
  for (const c of undated) {
    counted.delete(c.seq);
    folded.set(c.seq, "reports: no seizure date");
  }
  const reasons = new Map<string, number>();
  for (const item of items) {
    const what = whatOf(item);
    if (what === null || counted.has(item.seq)) continue;
    const reason = !item.valid ? item.error || "not verified" : folded.get(item.seq) || "parent not counted";
    bump(reasons, JSON.stringify([what, Array.from(reason).slice(0, REASON_MAX).join("")]));
  }
  return [...reasons]
    .map(([key, count]) => [JSON.parse(key) as [string, string], count] as const)
    .sort((a, b) => cmpTuple(a[0], b[0]))
    .map(([[what, reason], count]) => ({ what, reason, count }));
}

/** Counted and undated cases of an archive, for drill-down from a figure to its cases. */
export function countedCases(items: Iterable<Item>): { every: CountedCase[]; undated: CaseView[]; views: CaseView[] } {
  const views = buildCases([...items].sort((a, b) => a.seq - b.seq));
  const every: CountedCase[] = [];
  const undated: CaseView[] = [];
  for (const view of views) {
    const c = countedCase(view);
    if (c) every.push(c);
    else undated.push(view);
  }
  return { every, undated, views };
}

/** The operation's table (docs/ANALYTICS.md) over a group's archived items. */
export function analyse(items: Iterable<Item>, params: Params) {
  const archive = [...items].sort((a, b) => a.seq - b.seq);
  const { every, undated, views } = countedCases(archive);
  const chosen = every.filter((c) => holds(params, c.day));
  const pns = buildPrenotifications(archive);
  const otherUnits = new Map<string, Dec>();
  for (const c of chosen) for (const [key, value] of c.otherUnits) add(otherUnits, key, value);
  return {
    period: { from: params.start, to: params.end, phase: params.phase },
    key_figures: keyFigures(chosen),
    other_units: [...otherUnits]
      .map(([key, value]) => [JSON.parse(key) as [string, string], value] as const)
      .sort((a, b) => cmpTuple(a[0], b[0]))
      .map(([[unit, category], value]) => ({ unit, category, quantity: num(value) })),
    by_region: byRegion(chosen),
    by_country: byCountry(chosen),
    by_phase: rowsBy("phase", groupBy(chosen, (c) => phaseOf(c.day, params.phases)), [...params.phases.map((p) => p.name), ...(chosen.some((c) => phaseOf(c.day, params.phases) === NO_PHASE) ? [NO_PHASE] : [])]),
    by_week: (() => {
      const grouped = groupBy(chosen, (c) => weekOf(c.day));
      return rowsBy("week", grouped, [...grouped.keys()].sort(cmp));
    })(),
    by_transport_mode: inOrder(countReports(chosen, "mode", "transport"), codes("transport_modes")),
    by_detection_method: inOrder(countReports(chosen, "method", "detection"), codes("detection_methods"), "not_given"),
    by_place_type: inOrder(countReports(chosen, "place_type"), codes("place_types")),
    by_direction: inOrder(countReports(chosen, "direction"), codes("directions")),
    by_category: byCategory(chosen),
    concealment: concealment(chosen),
    channels: channels(chosen),
    top_routes: topRoutes(chosen),
    first_seen: firstSeen(every, params),
    prenotifications: prenotifications(pns, params),
    not_counted: notCounted(archive, views, pns, undated),
  };
}

export type Table = ReturnType<typeof analyse>;
