/** One plain-language line for a failure of the trust layer: the crypto package's refusals
 * keep their message and stable code (`crypto.binding`, …); server and network failures go
 * through the shared `describeError`. */
import { CryptoError } from "../crypto";
import { type Described, describeError } from "../i18n";

export function describeTrust(error: unknown): Described {
  if (error instanceof CryptoError) return { message: error.message, code: error.code };
  if (error instanceof Error && !("status" in error) && error.name !== "NetworkError") return { message: error.message, code: null };
  return describeError(error);
}
