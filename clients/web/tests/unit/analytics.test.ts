/**
 * `analyse` (src/analytics/figures.ts) against the shared fixture tests/fixtures/analytics/:
 * the same archive must give exactly the table the Python SDK's `analyse` gives
 * (expected.json, which tests/analytics/test_figures.py checks on the Python side).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { analyse, paramsFromJson, pyRound, regionOf, weekOf } from "../../src/analytics/figures";
import { casesBehind, narrowArchive, parsePhases, periodParams } from "../../src/analytics/filters";
import { moreSections } from "../../src/analytics/sections";
import type { Item } from "../../src/records/view";
import { REPO_ROOT } from "./helpers";

const FIXTURE = join(REPO_ROOT, "tests/fixtures/analytics");
const input = JSON.parse(readFileSync(join(FIXTURE, "input.json"), "utf8")) as { items: Item[]; params: Record<string, unknown> };
const expected = JSON.parse(readFileSync(join(FIXTURE, "expected.json"), "utf8"));

describe("analytics figures", () => {
  it("gives the shared fixture's expected table, key for key", () => {
    expect(analyse(input.items, paramsFromJson(input.params))).toStrictEqual(expected);
  });

  it("does not depend on the order items arrive in", () => {
    const shuffled = [...input.items].reverse();
    expect(analyse(shuffled, paramsFromJson(input.params))).toStrictEqual(expected);
  });

  it("keeps narratives out of the table", () => {
    const text = JSON.stringify(analyse(input.items, paramsFromJson(input.params)));
    expect(text).not.toContain("NARRATIVE-MUST-NOT-LEAK");
  });

  it("narrows the period to a named phase", () => {
    const table = analyse(input.items, paramsFromJson({ ...input.params, phase: "2" }));
    expect(table.period).toEqual({ from: "2021-06-01", to: "2021-06-30", phase: "2" });
    expect(table.key_figures.cases).toBe(expected.by_phase[1].cases);
  });

  it("rounds, weeks and regions as Python does", () => {
    expect([pyRound(0.125, 2), pyRound(0.375, 2), pyRound(2.675, 2), pyRound(1 / 3, 4)]).toEqual([0.12, 0.38, 2.67, 0.3333]);
    expect([weekOf("2021-01-03"), weekOf("2021-01-04"), weekOf("2020-12-31"), weekOf("2026-12-31")]).toEqual(["2020-W53", "2021-W01", "2020-W53", "2026-W53"]);
    expect([regionOf("BE"), regionOf("XX"), regionOf(null)]).toEqual(["EUR", "?", "?"]);
  });
});

describe("analytics filters and drill-down", () => {
  const params = paramsFromJson(input.params);

  it("narrows by region to exactly that region's row", () => {
    const table = analyse(narrowArchive(input.items, { region: "EUR", category: null }), params);
    const row = expected.by_region.find((r: { region: string }) => r.region === "EUR");
    expect(table.key_figures).toEqual({ members_reporting: row.members_reporting, cases: row.cases, seizure_reports: row.seizure_reports, pieces: row.pieces });
    expect(table.not_counted).toEqual(expected.not_counted);
  });

  it("drills down from a figure to the cases it counts", () => {
    expect(casesBehind(input.items, params, { kind: "all" }).length).toBe(expected.key_figures.cases);
    for (const week of expected.by_week) expect(casesBehind(input.items, params, { kind: "week", week: week.week }).length).toBe(week.cases);
    for (const r of expected.top_routes) expect(casesBehind(input.items, params, { kind: "route", departure: r.departure, destination: r.destination }).length).toBe(r.cases);
    for (const region of expected.by_region) expect(casesBehind(input.items, params, { kind: "region", region: region.region }).length).toBe(region.cases);
    for (const c of expected.by_country) expect(casesBehind(input.items, params, { kind: "country", country: c.country }).length).toBe(c.cases);
    for (const p of expected.first_seen.product_types) expect(casesBehind(input.items, params, { kind: "product", category: p.category, hs_code: p.hs_code }).length).toBe(p.cases);
  });

  it("maps the breakdown sections the dashboard shows to the table's numbers", () => {
    const shown = new Map(moreSections(analyse(input.items, params), "en").map((s) => [s.id, new Map(s.rows.map((r) => [r.key, r]))]));
    const country = shown.get("an-country")!;
    expect([...country.keys()]).toEqual(expected.by_country.map((r: { country: string }) => r.country));
    for (const r of expected.by_country) expect(country.get(r.country)).toMatchObject({ n: r.cases, drill: { kind: "country", country: r.country } });
    const pn = expected.prenotifications;
    const ack = shown.get("an-ack")!;
    expect(ack.get("ack_median")).toMatchObject({ n: pn.hours_to_first_ack.median, text: `${pn.hours_to_first_ack.median} h` });
    expect(ack.get("ack_p90")!.n).toBe(pn.hours_to_first_ack.p90);
    expect(ack.get("ack_max")!.n).toBe(pn.hours_to_first_ack.max);
    expect(ack.get("share_before_eta")).toMatchObject({ n: pn.share_acknowledged_before_eta, text: "33.33 %" });
    expect(shown.get("an-discrepancy")!.get("quantity")!.n).toBe(pn.discrepancies.quantity);
    expect(shown.get("an-discrepancy")!.get("overdue")!.n).toBe(pn.overdue);
    expect(shown.get("an-detection")!.get("not_given")).toMatchObject({ label: "Not given", n: expected.by_detection_method.not_given });
    expect(shown.get("an-other-units")!.get("KGM:medicines")!.n).toBe(2.5);
    expect([...shown.get("an-new-routes")!.values()].map((r) => r.n)).toEqual(expected.first_seen.routes.map((r: { cases: number }) => r.cases));
  });
});

describe("analytics phases typed in the browser", () => {
  it("reads `name from to` lines and names the ones that do not read", () => {
    expect(parsePhases("1 2021-04-30 2021-05-31\n\n2 2021-06-01 2021-06-30\nbad line\n3 2021-07-31 2021-07-01")).toEqual({
      phases: [
        { name: "1", start: "2021-04-30", end: "2021-05-31" },
        { name: "2", start: "2021-06-01", end: "2021-06-30" },
      ],
      bad: [4, 5],
    });
  });

  it("a chosen phase gives the same table as the fixture's phase parameter", () => {
    const { phases } = parsePhases("1 2021-04-30 2021-05-31\n2 2021-06-01 2021-06-30\n3 2021-07-01 2021-07-31");
    const nowMs = Date.parse("2021-06-30T00:00:00Z");
    const mine = analyse(input.items, periodParams({ from: "", to: "", phase: "2", phases, nowMs }));
    expect(mine).toStrictEqual(analyse(input.items, paramsFromJson({ ...input.params, phase: "2" })));
    expect(analyse(input.items, periodParams({ from: "2021-05-01", to: "2021-06-30", phase: "", phases, nowMs }))).toStrictEqual(expected);
  });
});
