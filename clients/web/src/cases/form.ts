/**
 * Forms generated from a template's JSON Schema: what kind of input a schema node asks for,
 * the data the officer typed (kept as JSON, empty answers dropped so `required` speaks), and
 * field errors in the officer's language. No UI here; `CaseForm.tsx` renders it.
 */
import { codeLabel, type FieldError, type Json, type JsonObject, VOCAB_PREFIX, vocabularies } from "../records/templates";
import { type CasesKey, casesMsg } from "./messages";

export type Path = readonly (string | number)[];

/** What a schema node is to the officer. */
export type Kind =
  | { kind: "object"; properties: [string, JsonObject][]; required: Set<string> }
  | { kind: "objects"; item: JsonObject; minItems: number }
  | { kind: "codes"; vocab: string | null; options: (string | number)[] }
  | { kind: "strings" }
  | { kind: "code"; vocab: string | null; options: (string | number)[] }
  | { kind: "boolean" }
  | { kind: "number"; integer: boolean }
  | { kind: "date" }
  | { kind: "datetime" }
  | { kind: "text"; long: boolean; pattern: string | null };

const isObject = (v: unknown): v is JsonObject => typeof v === "object" && v !== null && !Array.isArray(v);

function vocabOf(node: JsonObject): string | null {
  const ref = node.$ref;
  return typeof ref === "string" && ref.startsWith(VOCAB_PREFIX) ? ref.slice(VOCAB_PREFIX.length) : null;
}

function codeKind(node: JsonObject): { vocab: string | null; options: (string | number)[] } | null {
  const vocab = vocabOf(node);
  if (vocab) return { vocab, options: (vocabularies[vocab] ?? []).map((e) => e.code) };
  if (Array.isArray(node.enum)) return { vocab: null, options: node.enum.filter((v): v is string | number => typeof v === "string" || typeof v === "number") };
  return null;
}

export function kindOf(node: JsonObject): Kind {
  const code = codeKind(node);
  if (code) return { kind: "code", ...code };
  if (node.type === "object") {
    const props = isObject(node.properties) ? Object.entries(node.properties as Record<string, JsonObject>) : [];
    return { kind: "object", properties: props, required: new Set(Array.isArray(node.required) ? (node.required as string[]) : []) };
  }
  if (node.type === "array" && isObject(node.items)) {
    const item = node.items;
    if (item.type === "object") return { kind: "objects", item, minItems: typeof node.minItems === "number" ? node.minItems : 0 };
    const itemCode = codeKind(item);
    if (itemCode) return { kind: "codes", ...itemCode };
    return { kind: "strings" };
  }
  if (node.type === "boolean") return { kind: "boolean" };
  if (node.type === "number" || node.type === "integer") return { kind: "number", integer: node.type === "integer" };
  if (node.format === "date") return { kind: "date" };
  if (node.format === "date-time") return { kind: "datetime" };
  const max = typeof node.maxLength === "number" ? node.maxLength : 0;
  return { kind: "text", long: max > 200, pattern: typeof node.pattern === "string" ? node.pattern : null };
}

/** `reports[0].items` — the SDK's dotted path, as field errors name it. */
export function dottedPath(path: Path): string {
  let out = "";
  for (const part of path) out += typeof part === "number" ? `[${part}]` : out ? `.${part}` : part;
  return out;
}

/** A DOM id for a path (`f-reports-0-items`). */
export const fieldId = (path: Path) => `f-${path.join("-")}`;

export function getAt(data: unknown, path: Path): unknown {
  let here = data;
  for (const p of path) here = (here as Record<string | number, unknown> | undefined)?.[p];
  return here;
}

/** A copy of `data` with the value at `path` set (undefined removes it). */
export function setAt(data: Json | undefined, path: Path, value: Json | undefined): Json {
  if (!path.length) return value ?? null;
  const [head, ...rest] = path as [string | number, ...(string | number)[]];
  if (typeof head === "number") {
    const list = Array.isArray(data) ? [...data] : [];
    const next = setAt(list[head], rest, value);
    list[head] = next;
    return list;
  }
  const obj: JsonObject = isObject(data) ? { ...data } : {};
  const next = rest.length ? setAt(obj[head], rest, value) : value;
  if (next === undefined) delete obj[head];
  else obj[head] = next;
  return obj;
}

/** Drop empty answers (blank text, empty objects and lists) so the schema sees only what is known. */
export function prune(value: Json | undefined): Json | undefined {
  if (Array.isArray(value)) {
    const items = value.map((v) => (isObject(v) ? (prune(v) ?? {}) : prune(v))).filter((v) => v !== undefined) as Json[];
    return items.length ? items : undefined;
  }
  if (isObject(value)) {
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(value)) {
      const kept = prune(v);
      if (kept !== undefined) out[k] = kept;
    }
    return Object.keys(out).length ? out : undefined;
  }
  if (value === null || value === undefined || (typeof value === "string" && value.trim() === "")) return undefined;
  return value;
}

/** Code-list options with their labels in the officer's language, sorted as that language sorts. */
export function codeOptions(vocab: string | null, options: readonly (string | number)[], lang: string): { code: string | number; label: string }[] {
  const labelled = options.map((code) => ({ code, label: vocab ? `${codeLabel(vocab, code, lang)} (${code})` : String(code) }));
  if (vocab === "countries") {
    const collator = new Intl.Collator(lang);
    labelled.sort((a, b) => collator.compare(a.label, b.label));
  }
  return labelled;
}

const RULES: Record<string, CasesKey> = {
  required: "cases.err_required",
  enum: "cases.err_code",
  minItems: "cases.err_min_items",
  minLength: "cases.err_empty",
  maxLength: "cases.err_too_long",
  pattern: "cases.err_pattern",
  minimum: "cases.err_minimum",
  maximum: "cases.err_maximum",
  exclusiveMinimum: "cases.err_greater",
  additionalProperties: "cases.err_unknown",
};

/** A field error in the officer's language (the SDK's English reason when no rule matches). */
export function errorText(error: FieldError): string {
  if (error.rule === "type") return casesMsg(error.limit === "number" || error.limit === "integer" ? "cases.err_number" : "cases.err_type");
  if (error.rule === "format") return casesMsg(error.limit === "date" ? "cases.err_date" : "cases.err_format");
  const key = error.rule ? RULES[error.rule] : undefined;
  return key ? casesMsg(key, { n: error.limit ?? "" }) : error.reason;
}

/** Field errors by dotted path. */
export function errorsByPath(errors: readonly FieldError[]): Map<string, FieldError[]> {
  const out = new Map<string, FieldError[]>();
  for (const e of errors) out.set(e.path, [...(out.get(e.path) ?? []), e]);
  return out;
}
