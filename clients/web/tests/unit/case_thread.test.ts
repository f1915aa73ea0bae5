/** A case's thread as a tree: replies under the reply they answer, a forged parent harmless. */
import { describe, expect, it } from "vitest";
import { threadTree } from "../../src/cases/CaseDetail";
import type { Item } from "../../src/records/view";

const item = (seq: number, parent_seq: number | null) => ({ seq, parent_seq }) as Item;
const shape = (nodes: ReturnType<typeof threadTree>): unknown[] => nodes.map((n) => [n.item.seq, shape(n.children)]);

describe("case thread tree", () => {
  it("nests a reply under the earlier reply it answers, oldest first, the rest under the case", () => {
    expect(shape(threadTree([item(14, 12), item(12, 10), item(13, 10), item(15, 14)]))).toEqual([
      [12, [[14, [[15, []]]]]],
      [13, []],
    ]);
  });

  it("puts a reply whose parent is later, itself or absent under the case (no loop, nothing hidden)", () => {
    expect(shape(threadTree([item(20, 21), item(21, 20), item(22, 22), item(23, 99)]))).toEqual([
      [20, [[21, []]]],
      [22, []],
      [23, []],
    ]);
  });
});
