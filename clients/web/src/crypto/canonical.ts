/**
 * Canonical JSON (PROTOCOL.md §2.2), byte for byte as `wire/canonical.py`.
 *
 * JavaScript's `JSON.parse` reads `1e3` as the integer 1000 and `2^53` rounded, so the
 * refusals of §2.2 cannot be decided on its output. `parseJson` is therefore a small strict
 * reader that keeps what the text said: a number with a fraction or exponent becomes a
 * `JsonFloat`, an integer beyond ±(2^53−1) a `bigint`; `canonicalJson` refuses both.
 */

import { type Bytes, equal, fromUtf8, utf8 } from "./bytes";
import { JSON_INT_MAX } from "./encoding";
import { MalformedError } from "./errors";

/** A JSON number written with a fraction or an exponent (Python: a `float`). */
export class JsonFloat {
  constructor(readonly text: string) {}
}

export type JsonValue = null | boolean | number | bigint | string | JsonFloat | JsonValue[] | { [key: string]: JsonValue };

function hasLoneSurrogate(s: string): boolean {
  return /[\ud800-\udfff]/u.test(s);
}

/** Compare by Unicode code point, not UTF-16 unit (§2.2). */
export function compareCodePoints(a: string, b: string): number {
  const ai = a[Symbol.iterator]();
  const bi = b[Symbol.iterator]();
  for (;;) {
    const x = ai.next();
    const y = bi.next();
    if (x.done || y.done) return x.done ? (y.done ? 0 : -1) : 1;
    const d = x.value.codePointAt(0)! - y.value.codePointAt(0)!;
    if (d) return d;
  }
}

function check(node: unknown, path: string): void {
  if (node === null || typeof node === "boolean") return;
  if (typeof node === "number") {
    if (!Number.isFinite(node) || !Number.isInteger(node)) throw new MalformedError(`${path}: numbers must be integers`);
    if (Math.abs(node) > JSON_INT_MAX) throw new MalformedError(`${path}: integer beyond ±(2^53−1)`);
    return;
  }
  if (typeof node === "bigint") {
    if (node > BigInt(JSON_INT_MAX) || node < -BigInt(JSON_INT_MAX)) throw new MalformedError(`${path}: integer beyond ±(2^53−1)`);
    return;
  }
  if (node instanceof JsonFloat) throw new MalformedError(`${path}: numbers must be integers`);
  if (typeof node === "string") {
    if (hasLoneSurrogate(node)) throw new MalformedError(`${path}: lone surrogate in a string`);
    return;
  }
  if (Array.isArray(node)) {
    node.forEach((child, i) => check(child, `${path}[${i}]`));
    return;
  }
  if (typeof node === "object") {
    for (const [key, child] of Object.entries(node as Record<string, unknown>)) {
      check(key, `${path}.<key>`);
      check(child, `${path}.${key}`);
    }
    return;
  }
  throw new MalformedError(`${path}: ${typeof node} is not a JSON value`);
}

const ESCAPES: Record<string, string> = { '"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r" };

function quote(s: string): string {
  // eslint-disable-next-line no-control-regex
  return `"${s.replace(/["\\\x00-\x1f]/g, (c) => ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)}"`;
}

function write(node: unknown): string {
  if (node === null) return "null";
  if (typeof node === "boolean") return node ? "true" : "false";
  if (typeof node === "number") return Object.is(node, -0) ? "0" : String(node);
  if (typeof node === "bigint") return node.toString();
  if (typeof node === "string") return quote(node);
  if (Array.isArray(node)) return `[${node.map(write).join(",")}]`;
  const obj = node as Record<string, unknown>;
  const keys = Object.keys(obj).sort(compareCodePoints);
  return `{${keys.map((k) => `${quote(k)}:${write(obj[k])}`).join(",")}}`;
}

/** One byte string per JSON value; refuses non-integers, out-of-range integers, lone surrogates. */
export function canonicalJson(value: unknown): Bytes {
  check(value, "$");
  return utf8(write(value));
}

/** A JSON number at `lastIndex` (sticky: no copy of the rest of the text per number). */
const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;

/** Parse JSON text keeping number spellings (see the module note); duplicate keys are refused. */
export function parseJson(text: string): JsonValue {
  let pos = 0;
  const fail = (msg: string): never => {
    throw new MalformedError(`canonical JSON: ${msg} at ${pos}`);
  };
  const ws = () => {
    while (pos < text.length && " \t\n\r".includes(text[pos]!)) pos++;
  };
  const value = (): JsonValue => {
    ws();
    const c = text[pos];
    if (c === "{") {
      pos++;
      const out: Record<string, JsonValue> = Object.create(null) as Record<string, JsonValue>;
      const seen = new Set<string>();
      ws();
      if (text[pos] === "}") {
        pos++;
        return { ...out };
      }
      for (;;) {
        ws();
        if (text[pos] !== '"') fail("Expecting property name enclosed in double quotes");
        const key = str();
        if (seen.has(key)) throw new MalformedError(`duplicate object key ${pyRepr(key)}`);
        seen.add(key);
        ws();
        if (text[pos++] !== ":") fail("Expecting ':' delimiter");
        out[key] = value();
        ws();
        const d = text[pos++];
        if (d === "}") return { ...out };
        if (d !== ",") fail("Expecting ',' delimiter");
      }
    }
    if (c === "[") {
      pos++;
      const out: JsonValue[] = [];
      ws();
      if (text[pos] === "]") {
        pos++;
        return out;
      }
      for (;;) {
        out.push(value());
        ws();
        const d = text[pos++];
        if (d === "]") return out;
        if (d !== ",") fail("Expecting ',' delimiter");
      }
    }
    if (c === '"') return str();
    for (const [word, v] of [["true", true], ["false", false], ["null", null]] as const) {
      if (text.startsWith(word, pos)) {
        pos += word.length;
        return v;
      }
    }
    for (const word of ["NaN", "Infinity", "-Infinity"]) {
      if (text.startsWith(word, pos)) throw new MalformedError(`${word} is not JSON`);
    }
    NUMBER.lastIndex = pos;
    const m = NUMBER.exec(text);
    if (!m) return fail("Expecting value");
    pos += m[0].length;
    if (m[1] || m[2]) return new JsonFloat(m[0]);
    const big = BigInt(m[0]);
    if (big > BigInt(JSON_INT_MAX) || big < -BigInt(JSON_INT_MAX)) return big;
    const n = Number(big);
    return n === 0 ? 0 : n;
  };
  const str = (): string => {
    const start = pos;
    pos++;
    let out = "";
    for (;;) {
      const c = text[pos];
      if (c === undefined) return fail(`Unterminated string starting`);
      if (c === '"') {
        pos++;
        return out;
      }
      if (c === "\\") {
        const e = text[pos + 1];
        const simple: Record<string, string> = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };
        if (e !== undefined && e in simple) {
          out += simple[e];
          pos += 2;
        } else if (e === "u" && /^[0-9a-fA-F]{4}$/.test(text.slice(pos + 2, pos + 6))) {
          out += String.fromCharCode(parseInt(text.slice(pos + 2, pos + 6), 16));
          pos += 6;
        } else {
          pos = start;
          return fail("Invalid \\escape");
        }
        continue;
      }
      if (c < " ") return fail("Invalid control character");
      out += c;
      pos++;
    }
  };
  const result = value();
  ws();
  if (pos !== text.length) fail("Extra data");
  return result;
}

/** Python's `repr` of a str, for messages that quote a key as the reference does. */
export function pyRepr(s: string): string {
  const q = s.includes("'") && !s.includes('"') ? '"' : "'";
  const body = s.replace(/\\/g, "\\\\").replace(new RegExp(q, "g"), `\\${q}`);
  return `${q}${body}${q}`;
}

/** Parse JSON that must already be canonical: any other spelling is refused. */
export function parseCanonicalJson(data: Uint8Array): JsonValue {
  const value = parseJson(fromUtf8(data, "canonical JSON"));
  if (!equal(canonicalJson(value), data)) {
    throw new MalformedError("canonical JSON: not in canonical form");
  }
  return value;
}
