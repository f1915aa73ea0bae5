/**
 * The dashboard's breakdown sections as data: each part of the `analyse` table that the key
 * figures do not show, mapped to titled rows (label, number, optional drill-down) that
 * `BarTable` renders. Kept apart from the screen so a unit test can check the numbers each
 * section shows against the table without rendering.
 */
import { codeLabel } from "../records/templates";
import { DISCREPANCY_KINDS } from "../records/workflow";
import type { Table } from "./figures";
import type { Drill } from "./filters";
import { analyticsMsg as m } from "./messages";

type Key = Parameters<typeof m>[0];

/** One row: `n` drives the bar; `text` (when set) is shown instead of `n`, e.g. a share or hours;
 * `of` (when set) is the bar's full length, for a row not comparable with its neighbours. */
export interface Row {
  key: string;
  label: string;
  n: number;
  text?: string;
  of?: number;
  drill?: Drill;
}

export interface Section {
  id: string;
  title: string;
  head: string;
  rows: Row[];
}

const coded = (vocab: string, counts: Record<string, number>, lang: string): Row[] =>
  Object.entries(counts).map(([code, n]) => ({ key: code, label: code === "not_given" ? m("not_given") : codeLabel(vocab, code, lang), n }));

const hours = (value: number | null, lang: string): Pick<Row, "n" | "text"> =>
  value === null ? { n: 0, text: "—" } : { n: value, text: m("hours_value", { h: value.toLocaleString(lang) }) };

/** The sections below the key figures that the first dashboard left out, in reading order. */
export function moreSections(table: Table, lang: string): Section[] {
  const pn = table.prenotifications;
  const ack = pn.hours_to_first_ack;
  const share = pn.share_acknowledged_before_eta;
  return [
    {
      id: "an-country",
      title: m("by_country"),
      head: m("country"),
      rows: table.by_country.map((r) => ({ key: r.country, label: codeLabel("countries", r.country, lang), n: r.cases, drill: { kind: "country", country: r.country } })),
    },
    { id: "an-detection", title: m("by_detection"), head: m("detection_method"), rows: coded("detection_methods", table.by_detection_method, lang) },
    { id: "an-place", title: m("by_place"), head: m("place_type"), rows: coded("place_types", table.by_place_type, lang) },
    { id: "an-direction", title: m("by_direction"), head: m("direction"), rows: coded("directions", table.by_direction, lang) },
    {
      id: "an-concealment",
      title: m("concealment"),
      head: m("concealment"),
      rows: (["reported", "not_reported"] as const).map((k) => ({ key: k, label: m(`concealment_${k}`), n: table.concealment[k] })),
    },
    {
      id: "an-other-units",
      title: m("other_units"),
      head: m("unit"),
      rows: table.other_units.map((r) => ({ key: `${r.unit}:${r.category}`, label: `${codeLabel("units", r.unit, lang)} · ${codeLabel("goods_categories", r.category, lang)}`, n: r.quantity })),
    },
    {
      id: "an-new-products",
      title: m("new_products"),
      head: m("product_type"),
      rows: (table.first_seen.product_types ?? []).map((r) => ({
        key: `${r.category}:${r.hs_code}`,
        label: m("first_seen_row", { what: `${codeLabel("goods_categories", r.category, lang)} · ${r.hs_code}`, date: r.first_date }),
        n: r.cases,
        drill: { kind: "product", category: r.category, hs_code: r.hs_code },
      })),
    },
    {
      id: "an-new-routes",
      title: m("new_routes"),
      head: m("route"),
      rows: (table.first_seen.routes ?? []).map((r) => ({
        key: `${r.departure}-${r.destination}`,
        label: m("first_seen_row", { what: `${codeLabel("countries", r.departure, lang)} → ${codeLabel("countries", r.destination, lang)}`, date: r.first_date }),
        n: r.cases,
        drill: { kind: "route", departure: r.departure, destination: r.destination },
      })),
    },
    {
      id: "an-ack",
      title: m("pn_timing"),
      head: m("pn_timing"),
      rows: [
        { key: "ack_median", label: m("ack_median"), ...hours(ack.median, lang) },
        { key: "ack_p90", label: m("ack_p90"), ...hours(ack.p90, lang) },
        { key: "ack_max", label: m("ack_max"), ...hours(ack.max, lang) },
        { key: "share_before_eta", label: m("share_before_eta"), n: share ?? 0, of: 1, text: share === null ? "—" : (share * 100).toLocaleString(lang, { maximumFractionDigits: 2 }) + " %" },
      ],
    },
    {
      id: "an-discrepancy",
      title: m("discrepancies_by_kind"),
      head: m("discrepancy_kind"),
      rows: [...DISCREPANCY_KINDS.map((k) => ({ key: k, label: m(`kind_${k}` as Key), n: (pn.discrepancies as Record<string, number>)[k] ?? 0 })), { key: "overdue", label: m("pn_overdue"), n: pn.overdue }],
    },
  ];
}
