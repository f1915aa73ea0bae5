/** Test helpers: the repository's checked-in vectors, read at test time by relative path. */

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";
import { CordonCryptoError } from "../../src/crypto/errors";

export const REPO_ROOT = fileURLToPath(new URL("../../../../", import.meta.url));

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Any = any;

export function vectors(name: string): Any {
  return JSON.parse(readFileSync(`${REPO_ROOT}tests/crypto/vectors/${name}`, "utf8"));
}

export const H = (hex: string): Uint8Array<ArrayBuffer> => Uint8Array.from(Buffer.from(hex, "hex"));
export const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

/** Assert `run` is refused with exactly this error class name and message. */
export async function refused(run: () => unknown, error: string, message?: string): Promise<void> {
  let caught: unknown = null;
  try {
    await run();
  } catch (e) {
    caught = e;
  }
  expect(caught, `expected ${error}`).toBeInstanceOf(CordonCryptoError);
  const err = caught as CordonCryptoError;
  expect({ error: err.name, message: message === undefined ? undefined : err.message }).toEqual({ error, message });
}
