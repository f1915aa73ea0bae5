/**
 * `analyse` at STOP II scale (2,769 cases in 4,034 seizure reports, 20 reporting countries),
 * in Node, beside the Python SDK's `analyse` on the same archive (written to a temp file, read
 * by both). The ceiling is one bare pass over the same reports summing the quantities: what
 * any aggregation must at least do. Results: docs/benchmarks-web.md.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cpuUsage } from "node:process";
import { it } from "vitest";
import { analyse, type Params } from "../src/analytics/figures";
import type { Item } from "../src/records/view";

const REPO = join(__dirname, "../../..");
const COUNTRIES = ["BE", "FR", "DE", "NG", "CN", "US", "BR", "IN", "KE", "EG", "JP", "MX", "ZA", "SA", "GB", "IT", "ES", "PT", "RU", "AU"];
const CATEGORIES = ["medicines", "medical_devices", "ppe", "vaccines", "test_kits", "other"];

function archive(): Item[] {
  const items: Item[] = [];
  let reports = 0;
  for (let i = 0; i < 2769; i++) {
    const n = reports + 2 <= 4034 - (2769 - i - 1) && i % 2 === 0 && reports < 4034 - (2769 - i) ? 2 : 1;
    const rs = [];
    for (let r = 0; r < n; r++, reports++) {
      const day = `2021-${String(5 + ((i + r) % 3)).padStart(2, "0")}-${String(1 + ((i * 7 + r) % 28)).padStart(2, "0")}`;
      rs.push({
        seizure_date: day,
        place_type: ["airport", "seaport", "postal_centre", "free_trade_zone"][i % 4],
        direction: "import",
        departure_country: COUNTRIES[(i * 3 + r) % COUNTRIES.length],
        destination_country: COUNTRIES[i % COUNTRIES.length],
        transport: { mode: ["air", "sea", "postal", "road"][i % 4] },
        items: [{ category: CATEGORIES[i % CATEGORIES.length], hs_code: "3004", quantity: 100 + (i % 900), unit: i % 5 === 0 ? "KGM" : "PCE" }],
        detection: { method: "risk_profiling" },
      });
    }
    items.push({
      group_id: "11111111-1111-4111-8111-111111111111",
      seq: i + 1,
      kind: "alert",
      type: "seizure_case",
      sender_user_id: `00000000-0000-0000-0000-${String(i % 90).padStart(12, "0")}`,
      sender_device_id: null,
      parent_seq: null,
      valid: true,
      error: null,
      template: { id: "seizure-case", version: 1, form: "simplified" },
      data: { reporting_country: COUNTRIES[i % COUNTRIES.length], handling_code: "H1", reports: rs },
      routing: null,
      event: null,
      received_at: "2021-08-01T00:00:00+00:00",
      sent_at: "2021-08-01T00:00:00+00:00",
    });
  }
  return items;
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] as number;

function measure(name: string, runs: number, fn: () => unknown): void {
  fn();
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < runs; i++) {
    const c0 = cpuUsage();
    const t0 = performance.now();
    fn();
    wall.push(performance.now() - t0);
    const c = cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  wall.sort((a, b) => a - b);
  cpu.sort((a, b) => a - b);
  console.log(`| ${name} | ${runs} | ${pct(wall, 0.5).toFixed(1)} ms | ${pct(wall, 0.99).toFixed(1)} ms | ${pct(cpu, 0.5).toFixed(1)} ms |`);
}

it("analyse at STOP II scale, Node beside Python", () => {
  const items = archive();
  const params: Params = { start: null, end: null, phases: [{ name: "1", start: "2021-05-01", end: "2021-06-15" }, { name: "2", start: "2021-06-16", end: "2021-07-31" }], nowMs: Date.parse("2021-08-01T00:00:00Z"), phase: null };
  const table = analyse(items, params);
  console.log(`cases ${table.key_figures.cases}, seizure reports ${table.key_figures.seizure_reports}`);
  console.log("| operation | runs | wall p50 | wall p99 | CPU p50 |\n|---|---:|---:|---:|---:|");
  measure("TS analyse (Node)", 30, () => analyse(items, params));
  measure("ceiling: one pass summing quantities (Node)", 30, () => {
    let total = 0;
    for (const i of items) for (const r of (i.data as { reports: { items: { quantity: number }[] }[] }).reports) for (const g of r.items) total += g.quantity;
    return total;
  });
  const dir = mkdtempSync(join(tmpdir(), "cordon-analytics-bench-"));
  const file = join(dir, "archive.json");
  writeFileSync(file, JSON.stringify({ items, params: { from: null, to: null, phase: null, phases: params.phases.map((p) => ({ name: p.name, from: p.start, to: p.end })), now: "2021-08-01T00:00:00Z" } }));
  const script = `
import json, sys, time, statistics
from cordon_client.analytics.figures import Params, analyse
from cordon_client.records.view import Item
raw = json.load(open(sys.argv[1]))
items = [Item.from_json(i) for i in raw["items"]]
params = Params.from_json(raw["params"])
analyse(items, params)
wall, cpu = [], []
for _ in range(30):
    c0, t0 = time.thread_time_ns(), time.perf_counter_ns()
    analyse(items, params)
    wall.append((time.perf_counter_ns() - t0) / 1e6); cpu.append((time.thread_time_ns() - c0) / 1e6)
wall.sort(); cpu.sort()
print(f"| Python analyse | 30 | {wall[14]:.1f} ms | {wall[29]:.1f} ms | {cpu[14]:.1f} ms |")
`;
  console.log(execFileSync(join(REPO, ".venv/bin/python"), ["-c", script, file], { encoding: "utf8" }).trim());
});
