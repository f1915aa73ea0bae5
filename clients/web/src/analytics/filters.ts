/**
 * The dashboard's filters and drill-down, on top of the pure `analyse`: a region or category
 * filter narrows the *archive* to the cases that match (with their amendments and thread), so
 * every figure, and the "not counted" line, is computed by the same code as the unfiltered
 * table; drill-down lists the counted cases behind one number.
 */
import type { Item } from "../records/view";
import { threadRoot } from "../records/view";
import { type CountedCase, countedCases, holds, type Params, type Phase, regionOf, routeOf, weekOf } from "./figures";

export interface Narrowing {
  region: string | null;
  category: string | null;
}

const hasCategory = (c: CountedCase, category: string): boolean =>
  c.reports.some((r) => (Array.isArray(r.items) ? r.items : []).some((i) => typeof i === "object" && i !== null && (i as Record<string, unknown>).category === category));

/** Whether a counted case passes the region and category filters. */
export const matches = (c: CountedCase, n: Narrowing): boolean => (n.region === null || regionOf(c.country) === n.region) && (n.category === null || hasCategory(c, n.category));

/** The archive without the cases (and their threads) that the filters leave out. */
export function narrowArchive(items: readonly Item[], n: Narrowing): Item[] {
  if (n.region === null && n.category === null) return [...items];
  const dropped = new Set(countedCases(items).every.filter((c) => !matches(c, n)).map((c) => c.view.seq));
  if (!dropped.size) return [...items];
  const bySeq = new Map(items.map((i) => [i.seq, i]));
  return items.filter((i) => !dropped.has(threadRoot(bySeq, i.seq)));
}

/** What a drilled-down number counts. */
export type Drill = { kind: "all" } | { kind: "region"; region: string } | { kind: "week"; week: string } | { kind: "category"; category: string } | { kind: "country"; country: string } | { kind: "route"; departure: string; destination: string } | { kind: "product"; category: string; hs_code: string };

/** The counted cases in the period behind one figure, newest first. */
export function casesBehind(items: readonly Item[], params: Params, drill: Drill): CountedCase[] {
  const chosen = countedCases(items).every.filter((c) => holds(params, c.day));
  const keep = (c: CountedCase): boolean => {
    switch (drill.kind) {
      case "all":
        return true;
      case "region":
        return regionOf(c.country) === drill.region;
      case "week":
        return weekOf(c.day) === drill.week;
      case "category":
        return hasCategory(c, drill.category);
      case "country":
        return c.country === drill.country;
      case "route":
        return c.reports.some((r) => routeOf(r)[0] === drill.departure && routeOf(r)[1] === drill.destination);
      case "product":
        return c.reports.some((r) => (Array.isArray(r.items) ? r.items : []).some((i) => typeof i === "object" && i !== null && String((i as Record<string, unknown>).category) === drill.category && String((i as Record<string, unknown>).hs_code) === drill.hs_code));
    }
  };
  return chosen.filter(keep).sort((a, b) => b.view.seq - a.view.seq);
}

const PHASE_LINE = /^\s*(\S+)\s+(\d{4}-\d{2}-\d{2})\s+(\d{4}-\d{2}-\d{2})\s*$/;

/** Phases as the coordinator types them, one per line: `NAME FROM TO` (ISO dates, inclusive).
 * Returns the phases, or the 1-based numbers of the lines that do not read. */
export function parsePhases(text: string): { phases: Phase[]; bad: number[] } {
  const phases: Phase[] = [];
  const bad: number[] = [];
  text.split("\n").forEach((line, index) => {
    if (!line.trim()) return;
    const m = PHASE_LINE.exec(line);
    if (m && (m[2] as string) <= (m[3] as string) && !Number.isNaN(Date.parse(m[2] as string)) && !Number.isNaN(Date.parse(m[3] as string))) phases.push({ name: m[1] as string, start: m[2] as string, end: m[3] as string });
    else bad.push(index + 1);
  });
  return { phases, bad };
}

/** The period: a chosen phase's dates, else the from/to typed (either may be empty). */
export function periodParams(o: { from: string; to: string; phase: string; phases: readonly Phase[]; nowMs: number }): Params {
  const chosen = o.phase ? o.phases.find((p) => p.name === o.phase) : undefined;
  if (chosen) return { start: chosen.start, end: chosen.end, phases: o.phases, nowMs: o.nowMs, phase: chosen.name };
  return { start: o.from || null, end: o.to || null, phases: o.phases, nowMs: o.nowMs, phase: null };
}
