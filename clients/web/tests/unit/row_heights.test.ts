import { describe, expect, it } from "vitest";
import { RowHeights } from "../../src/app/rowHeights";

/** What VirtualList computed before: prefix sums over every row, and a binary search. */
function naive(keys: readonly string[], measured: Map<string, number>, estimate: number) {
  const offsets = [0];
  for (const k of keys) offsets.push(offsets.at(-1)! + (measured.get(k) ?? estimate));
  const rowAt = (y: number) => {
    let lo = 0;
    let hi = keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (offsets[mid + 1]! <= y) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  return { offsets, rowAt };
}

function check(rows: RowHeights, keys: readonly string[], measured: Map<string, number>, estimate: number) {
  const want = naive(keys, measured, estimate);
  expect(rows.length).toBe(keys.length);
  for (let i = 0; i <= keys.length; i++) expect(rows.offset(i)).toBe(want.offsets[i]);
  const total = want.offsets.at(-1)!;
  for (const y of [-5, 0, 1, estimate - 1, estimate, estimate + 1, total / 3, total / 2, total - 1, total, total + 10, ...want.offsets]) expect(rows.rowAt(y), `y=${y}`).toBe(want.rowAt(y));
}

describe("RowHeights (VirtualList's offsets, kept per change)", () => {
  it("gives the same offsets and rows as summing every height, through pushes at the top, measures and a rebuild", () => {
    const estimate = 120;
    const rows = new RowHeights(estimate);
    const measured = new Map<string, number>();
    let keys: string[] = [];
    check(rows, keys, measured, estimate);
    let next = 0;
    const push = (n: number) => {
      const added = Array.from({ length: n }, () => `k${next++}`).reverse();
      keys = [...added, ...keys]; // newest first, as the feed shows them
      rows.sync(keys);
    };
    for (const n of [1, 1, 3, 1, 8, 1, 17, 2]) {
      push(n);
      check(rows, keys, measured, estimate);
    }
    // Measured heights (rendered rows), some twice, one for a row not in the list yet.
    for (const [key, h] of [["k3", 80], ["k0", 200], ["k33", 55], ["k3", 90], ["k12", 0], ["k40", 300]] as const) {
      const changed = rows.set(key, h);
      expect(changed).toBe(measured.get(key) !== h);
      measured.set(key, h);
      check(rows, keys, measured, estimate);
    }
    expect(rows.set("k0", 200)).toBe(false);
    push(12); // k40 arrives, already measured
    check(rows, keys, measured, estimate);
    rows.sync(keys); // nothing new
    check(rows, keys, measured, estimate);
    keys = keys.filter((k) => k !== "k5"); // a row gone: rebuilt
    rows.sync(keys);
    check(rows, keys, measured, estimate);
    keys = [...keys].reverse(); // reordered: rebuilt
    rows.sync(keys);
    check(rows, keys, measured, estimate);
    rows.sync([]);
    check(rows, [], measured, estimate);
  });

  it("adds one row pushed on 10,000 at the top (no rebuild needed for the figures)", () => {
    const rows = new RowHeights(100);
    let keys = Array.from({ length: 10_000 }, (_, i) => `r${i}`);
    rows.sync(keys);
    keys = ["new", ...keys];
    rows.sync(keys);
    expect(rows.offset(1)).toBe(100);
    expect(rows.offset(10_001)).toBe(1_000_100);
    expect(rows.rowAt(1_000_050)).toBe(10_000);
  });
});
