/** Roster names: the server's listing labels verified members only, read defensively. */
import { describe, expect, it } from "vitest";
import { memberLabel, memberNameFrom, namesFor } from "../../src/feed/names";

const A = "00000000-0000-4000-8000-00000000000a";
const B = "00000000-0000-4000-8000-00000000000b";
const INTRUDER = "00000000-0000-4000-8000-0000000000ff";

describe("roster names", () => {
  it("labels only members of the verified log; a listed stranger gets no row or name", () => {
    const listing = [
      { user_id: A, username: "ana", display_name: "Ana Silva", organisation: "Customs PT" },
      { user_id: INTRUDER, username: "eve", display_name: "Eve" },
    ];
    const names = namesFor([A, B], listing);
    expect([...names.keys()]).toEqual([A]);
    expect(memberLabel(A, names.get(A))).toBe("Ana Silva (Customs PT)");
    expect(memberLabel(B, names.get(B))).toBe(B);
    expect(names.has(INTRUDER)).toBe(false);
  });

  it("reads the organisation's name when it is text, and does without it otherwise", () => {
    const label = (entry: Record<string, unknown>) => {
      const named = memberNameFrom({ user_id: A, ...entry });
      return memberLabel(A, named?.[1]);
    };
    expect(label({ display_name: "Ana", organisation: "Aduana ES" })).toBe("Ana (Aduana ES)");
    expect(label({ display_name: "Ana", organisation: { id: "x", name: "Douane FR" } })).toBe("Ana");
    expect(label({ display_name: "Ana", organisation_id: "3f0e…" })).toBe("Ana");
    expect(label({ username: "ana", display_name: "  " })).toBe("ana");
    expect(label({ display_name: 42 })).toBe(A);
  });

  it("ignores a malformed listing instead of failing", () => {
    expect(namesFor([A], { detail: "nope" }).size).toBe(0);
    expect(namesFor([A], [null, 3, "x", { user_id: 5 }]).size).toBe(0);
  });
});
