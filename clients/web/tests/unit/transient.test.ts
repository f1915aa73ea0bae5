/** A roster re-check that fails for network reasons is retried, not a permanent refusal. */
import { describe, expect, it } from "vitest";
import { ApiError, NetworkError } from "../../src/api/client";
import { MalformedError } from "../../src/crypto";
import { isTransient } from "../../src/feed/engine";

describe("transient failures while re-checking an item's roster", () => {
  it("no answer, a busy or failing server, or an ended session: retry on the next sync", () => {
    expect(isTransient(new NetworkError(new TypeError("Failed to fetch")))).toBe(true);
    for (const status of [401, 408, 429, 500, 502, 503]) expect(isTransient(new ApiError(status, "x", "y"))).toBe(true);
  });

  it("what the item or the log itself got wrong stays a refusal", () => {
    expect(isTransient(new ApiError(403, "groups.not_member", "not a member"))).toBe(false);
    expect(isTransient(new ApiError(404, "groups.not_found", "gone"))).toBe(false);
    expect(isTransient(new MalformedError("bad envelope"))).toBe(false);
    expect(isTransient(new Error("the server's sender does not match the signed sender"))).toBe(false);
  });
});
