/** The group directory labels verified members only; a root is pinned or confirmed only by
 * the exact fingerprint digits or QR payload of PROTOCOL §3.4 (whitespace aside). */
import { describe, expect, it } from "vitest";
import { fingerprint, qrPayload, randomBytes } from "../../src/crypto";
import { matchesRoot } from "../../src/devices/linking";
import { countryName, directoryFor } from "../../src/groups/directory";

const A = "00000000-0000-4000-8000-00000000000a";
const INTRUDER = "00000000-0000-4000-8000-0000000000ff";
const GROUP = "5b0c1d2e-3f40-4152-8364-758697a8b9ca";
const OTHER = "5b0c1d2e-3f40-4152-8364-758697a8b9cb";

describe("group directory", () => {
  it("labels only verified members, with organisation and country; a listed stranger is ignored", () => {
    const listing = [
      { user_id: A, username: "ana", display_name: "Ana Silva", organisation: "Customs PT", country_code: "PT" },
      { user_id: INTRUDER, username: "eve", display_name: "Eve", organisation: "Nowhere", country_code: "ZZ" },
      "not an entry",
    ];
    const found = directoryFor([A], listing);
    expect([...found.keys()]).toEqual([A]);
    expect(found.get(A)).toEqual({ displayName: "Ana Silva", username: "ana", organisation: "Customs PT", country: "PT" });
    expect(directoryFor([A], { not: "a list" }).size).toBe(0);
  });

  it("names a country in the user's language, the code when unknown", () => {
    expect(countryName("BE", "fr")).toBe("Belgique");
    expect(countryName(null, "en")).toBe("");
  });
});

describe("root fingerprint comparison", () => {
  const root = randomBytes(32);
  const digits = fingerprint(GROUP, root);

  it("accepts the 60 digits however they are spaced, and the exact QR payload", () => {
    expect(digits).toMatch(/^(\d{5} ){11}\d{5}$/);
    expect(matchesRoot(GROUP, root, digits)).toBe(true);
    expect(matchesRoot(GROUP, root, `  ${digits.replaceAll(" ", "\n")} `)).toBe(true);
    expect(matchesRoot(GROUP, root, qrPayload(GROUP, root))).toBe(true);
  });

  it("refuses one wrong digit, a missing group of digits, another root or another group's QR", () => {
    const wrong = (digits[0] === "9" ? "0" : String(Number(digits[0]) + 1)) + digits.slice(1);
    expect(matchesRoot(GROUP, root, wrong)).toBe(false);
    expect(matchesRoot(GROUP, root, digits.slice(0, -6))).toBe(false);
    expect(matchesRoot(GROUP, root, fingerprint(GROUP, randomBytes(32)))).toBe(false);
    expect(matchesRoot(GROUP, root, qrPayload(OTHER, root))).toBe(false);
    expect(matchesRoot(GROUP, root, qrPayload(GROUP, randomBytes(32)))).toBe(false);
  });
});
