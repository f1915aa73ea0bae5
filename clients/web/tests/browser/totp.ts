/** RFC 6238 TOTP (SHA-1, 6 digits, 30 s), as an authenticator app computes it from the seed
 * the enrolment screen shows. */
import { createHmac } from "node:crypto";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

function base32(seed: string): Buffer {
  let bits = "";
  for (const char of seed.replace(/=+$/, "").toUpperCase()) {
    const value = ALPHABET.indexOf(char);
    if (value < 0) throw new Error(`not base32: ${char}`);
    bits += value.toString(2).padStart(5, "0");
  }
  const bytes = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(Number.parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}

/** The code of the time step `offset` steps after now. */
export function totp(seed: string, offset = 0, now = Date.now()): string {
  const step = BigInt(Math.floor(now / 30_000) + offset);
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(step);
  const mac = createHmac("sha1", base32(seed)).update(counter).digest();
  const at = (mac[mac.length - 1] ?? 0) & 0x0f;
  const value = (mac.readUInt32BE(at) & 0x7fffffff) % 1_000_000;
  return value.toString().padStart(6, "0");
}
