/** Strict base64url and UUIDs with the Python reference's messages (wire.b64d, parse_uuid). */

import { describe, expect, it } from "vitest";
import { b64d, b64e, uuidBytes } from "../../src/crypto/bytes";
import { refused } from "./helpers";

describe("b64d", () => {
  it("round-trips every length", () => {
    for (let n = 0; n < 70; n++) {
      const data = Uint8Array.from({ length: n }, (_, i) => (i * 37 + n) & 255);
      expect(b64d(b64e(data))).toEqual(data);
    }
  });
  it("refuses padding, the other alphabet, trailing bits, bad lengths, as Python does", async () => {
    await refused(() => b64d("AAA="), "MalformedError", "field: expected unpadded base64url text");
    await refused(() => b64d("AB"), "MalformedError", "field: non-canonical base64url");
    await refused(() => b64d("A+8", null, "k"), "MalformedError", "k: non-canonical base64url");
    await refused(() => b64d("AAAAA"), "MalformedError", "field: invalid base64url");
    await refused(() => b64d("AAAA", 4, "sig"), "MalformedError", "sig: expected 4 bytes, got 3");
    await refused(() => b64d("é"), "MalformedError", "field: expected unpadded base64url text");
    await refused(() => b64d(7), "MalformedError", "field: expected unpadded base64url text");
  });
  it("takes UUIDs only in canonical lowercase form", async () => {
    expect(uuidBytes("00000000-0000-4000-8000-0000000000aa").length).toBe(16);
    await refused(() => uuidBytes("00000000-0000-4000-8000-0000000000AA", "id"), "MalformedError", "id: UUID not in canonical lowercase form");
    await refused(() => uuidBytes("nope", "id"), "MalformedError", "id: not a UUID");
  });
});
