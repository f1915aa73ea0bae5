/** Every refusal class is named as its Python exception and carries its own stable code. */

import { describe, expect, it } from "vitest";
import * as errors from "../../src/crypto/errors";

describe("error classes", () => {
  it("names match the exported class (and the Python exception); codes are distinct", () => {
    const classes = Object.entries(errors).filter(([, v]) => typeof v === "function" && v.prototype instanceof Error) as [string, new (...a: string[]) => errors.CordonCryptoError][];
    const codes = new Set<string>();
    for (const [key, Cls] of classes) {
      const err = new Cls("a", "b", "c");
      expect(err.name).toBe(key);
      expect(err).toBeInstanceOf(errors.CordonCryptoError);
      codes.add(err.code);
    }
    expect(codes.size).toBe(classes.length);
    expect(new errors.InjectedMemberError("x")).toBeInstanceOf(errors.UnauthorisedEntryError);
    expect(new errors.TruncatedError("x")).toBeInstanceOf(errors.DecryptionError);
  });
});
