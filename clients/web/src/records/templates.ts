/**
 * Versioned message templates, as `cordon_client/templates/registry.py`: a template is
 * `{id, version, title, default_form, forms, labels}` whose forms are JSON Schema (Draft
 * 2020-12) documents; schemas name controlled vocabularies as `{"$ref":
 * "urn:cordon:vocab:<name>"}`, resolved only against the vocabularies shipped with the client.
 * The built-ins and vocabularies are the Python SDK's own package data (one source of truth),
 * bundled at build time. Group-published versions join the registry only once their signature
 * verifies under a key of the verified roster (PROTOCOL.md §12, `verifySignedTemplate`).
 *
 * Validation is `@cfworker/json-schema`: a Draft 2020-12 interpreter that does not compile
 * schemas to code, so it runs under the server's CSP (no `unsafe-eval`, which Ajv needs). Its
 * errors are turned into the SDK's field errors (same dotted path, same reason text).
 */
import { format as formats, type OutputUnit, type Schema, Validator } from "@cfworker/json-schema";
import { equal } from "../crypto/bytes";
import { canonicalJson } from "../crypto/canonical";
import { verifySignedTemplate } from "../crypto/authority";
import seizureCase from "../../../python/cordon_client/templates/seizure-case.v1.json";
import vaccinePrenotification from "../../../python/cordon_client/templates/vaccine-prenotification.v1.json";
import vocabularyFile from "../../../python/cordon_client/templates/vocabularies.json";

export const VOCAB_PREFIX = "urn:cordon:vocab:";
/** Labels every template must have; RU/AR/PT are read when present, else English is shown. */
export const REQUIRED_LANGUAGES = ["en", "fr", "es"] as const;
const TEMPLATE_ID = /^[a-z][a-z0-9-]{0,62}$/;
const UTC_DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]00:00)$/;

export class TemplateError extends Error {
  override name = "TemplateError";
}
export class UnknownTemplateError extends TemplateError {
  override name = "UnknownTemplateError";
}

/** One reason a message does not fit its template, at a dotted field path (`reports[0].items`). */
export interface FieldError {
  path: string;
  /** The SDK's reason, in English (logs, support, the cross-implementation tests). */
  reason: string;
  /** The schema keyword that failed (`required`, `enum`, `maxLength`…), for a translated message. */
  rule?: string;
  /** The keyword's operand where it has one (`100` for maxLength 100, `date` for a format). */
  limit?: string;
}

export const fieldErrorText = (e: FieldError) => `${e.path || "(message)"}: ${e.reason}`;

/** The message does not validate; `errors` name every failing field and why. */
export class InvalidContentError extends TemplateError {
  override name = "InvalidContentError";
  constructor(readonly errors: FieldError[]) {
    super(errors.map(fieldErrorText).join("; "));
  }
}

export interface VocabEntry {
  code: string | number;
  en: string;
  fr: string;
  es: string;
  [lang: string]: string | number;
}

export const vocabularies = (vocabularyFile as unknown as { vocabularies: Record<string, VocabEntry[]> }).vocabularies;

/** A code's label in a language, falling back to English, then to the code itself. */
export function codeLabel(vocab: string, code: unknown, lang: string): string {
  const entry = vocabularies[vocab]?.find((e) => e.code === code);
  if (!entry) return String(code);
  const text = entry[lang] ?? entry.en;
  return typeof text === "string" && text ? text : String(code);
}

// The SDK's date-time rule: UTC only, at most microseconds (registry.py `_is_utc_datetime`).
formats["date-time"] = (value: string) => {
  if (!UTC_DATETIME.test(value)) return false;
  return !Number.isNaN(Date.parse(value.replace(/[+-]00:00$/, "Z")));
};

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };
export interface TemplateBody {
  id: string;
  version: number;
  title: string;
  default_form: string;
  forms: Record<string, JsonObject>;
  labels: Record<string, Record<string, string>>;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function checkLabels(body: Record<string, unknown>): void {
  const labels = body.labels;
  if (!isObject(labels)) throw new TemplateError("template: labels must be an object");
  for (const [path, names] of Object.entries(labels)) {
    if (!isObject(names) || !REQUIRED_LANGUAGES.every((l) => typeof names[l] === "string" && names[l] !== "")) {
      throw new TemplateError(`template: label of ${path} needs ${REQUIRED_LANGUAGES.join(", ")}`);
    }
  }
}

/** A Python-style repr of a JSON value, so reasons read as the SDK's (`'XX' is not …`). */
function pyRepr(value: unknown): string {
  if (typeof value === "string") return value.includes("'") && !value.includes('"') ? `"${value}"` : `'${value.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
  if (value === true) return "True";
  if (value === false) return "False";
  if (value === null || value === undefined) return "None";
  if (Array.isArray(value)) return `[${value.map(pyRepr).join(", ")}]`;
  if (isObject(value)) return `{${Object.entries(value).map(([k, v]) => `${pyRepr(k)}: ${pyRepr(v)}`).join(", ")}}`;
  return String(value);
}

const unescapePointer = (s: string) => decodeURIComponent(s).replace(/~1/g, "/").replace(/~0/g, "~");

function pointerParts(location: string): (string | number)[] {
  const raw = location.replace(/^#/, "").split("/").slice(1).map(unescapePointer);
  return raw.map((p) => (/^(0|[1-9]\d*)$/.test(p) ? Number(p) : p));
}

/** `reports[0].items`: the SDK's dotted form of an instance path. */
export function dotted(parts: readonly (string | number)[]): string {
  let out = "";
  for (const part of parts) out += typeof part === "number" ? `[${part}]` : out ? `.${part}` : part;
  return out;
}

function at(instance: unknown, parts: readonly (string | number)[]): unknown {
  let here: unknown = instance;
  for (const p of parts) here = (here as Record<string | number, unknown> | undefined)?.[p];
  return here;
}

/** The schema value behind an error (the keyword's operand), read from the cfworker text. */
function operand(unit: OutputUnit): string {
  const m = /\(\d+ [<>] (\d+)\)|Expected "(.+)"\.|(?:than(?: or equal to)? +)([-\d.e+]+)\.$/.exec(unit.error);
  if (!m) return "?";
  if (m[2] !== undefined) {
    const types = m[2].split('", "');
    return types.length > 1 ? pyRepr(types) : (types[0] as string);
  }
  return (m[1] ?? m[3]) as string;
}

/** Turn validator output into the SDK's field errors: a path a user can find, a reason to act on. */
function fieldErrors(units: readonly OutputUnit[], data: unknown): FieldError[] {
  const found = new Map<string, FieldError>();
  const extras = new Map<string, string[]>();
  let rule = "";
  let limit: string | undefined;
  const add = (path: string, reason: string) => found.set(`${path}\u0000${reason}`, { path, reason, rule, ...(limit !== undefined ? { limit } : {}) });
  for (const unit of units) {
    const parts = pointerParts(unit.instanceLocation);
    const instance = at(data, parts);
    rule = unit.keyword;
    limit = ["type", "minItems", "maxLength", "minimum", "maximum", "exclusiveMinimum"].includes(rule) ? operand(unit) : rule === "format" ? /format "(.*)"/.exec(unit.error)?.[1] : undefined;
    switch (unit.keyword) {
      case "required": {
        const name = /required property "(.*)"\.$/.exec(unit.error)?.[1] ?? "?";
        add(dotted([...parts, name]), "is required");
        break;
      }
      case "additionalProperties": {
        const name = /^Property "(.*)" does not match/.exec(unit.error)?.[1] ?? "?";
        const key = unit.instanceLocation;
        extras.set(key, [...(extras.get(key) ?? []), name]);
        break;
      }
      case "enum":
        add(dotted(parts), `${pyRepr(instance)} is not an allowed code`);
        break;
      case "type":
        add(dotted(parts), `must be of type ${operand(unit)}`);
        break;
      case "format":
        add(dotted(parts), `${pyRepr(instance)} is not a valid ${/format "(.*)"/.exec(unit.error)?.[1] ?? "?"}`);
        break;
      case "minItems": {
        const n = operand(unit);
        add(dotted(parts), `needs at least ${n} entr${n === "1" ? "y" : "ies"}`);
        break;
      }
      case "minLength":
        add(dotted(parts), "must not be empty");
        break;
      case "maxLength":
        add(dotted(parts), `is longer than ${operand(unit)} characters`);
        break;
      case "pattern":
        add(dotted(parts), `${pyRepr(instance)} does not have the expected form`);
        break;
      case "minimum":
        add(dotted(parts), `must be at least ${operand(unit)}`);
        break;
      case "maximum":
        add(dotted(parts), `must be at most ${operand(unit)}`);
        break;
      case "exclusiveMinimum":
        add(dotted(parts), `must be greater than ${operand(unit)}`);
        break;
      case "properties":
      case "items":
      case "prefixItems":
      case "$ref":
      case "false":
      case "allOf":
        break; // wrappers around the leaf errors above
      default:
        add(dotted(parts), unit.error);
    }
  }
  rule = "additionalProperties";
  limit = undefined;
  for (const [location, names] of extras) add(dotted([...pointerParts(location), [...names].sort()[0] as string]), "is not a field of this template");
  return [...found.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.reason < b.reason ? -1 : a.reason > b.reason ? 1 : 0));
}

const vocabSchemas: [string, Schema][] = Object.entries(vocabularies).map(([name, entries]) => [VOCAB_PREFIX + name, { enum: entries.map((e) => e.code) } as Schema]);

/** One version of a template, ready to validate messages with. */
export class Template {
  private readonly validators = new Map<string, Validator>();

  private constructor(
    readonly id: string,
    readonly version: number,
    readonly body: TemplateBody,
  ) {}

  /** Check a template document's shape, so a bad one fails at load time. */
  static fromBody(raw: unknown): Template {
    if (!isObject(raw)) throw new TemplateError("template: must be an object");
    const { id, version, forms } = raw;
    if (typeof id !== "string" || !TEMPLATE_ID.test(id)) throw new TemplateError("template: id must be lowercase letters, digits and dashes");
    if (typeof version !== "number" || !Number.isSafeInteger(version) || version < 1) throw new TemplateError("template: version must be a positive integer");
    if (!isObject(forms) || !Object.keys(forms).length) throw new TemplateError("template: forms must be a non-empty object");
    if (typeof raw.default_form !== "string" || !Object.hasOwn(forms, raw.default_form)) throw new TemplateError("template: default_form must name one of its forms");
    for (const [name, schema] of Object.entries(forms)) {
      if (!isObject(schema)) throw new TemplateError(`template: form ${name} is not a valid schema: not an object`);
    }
    checkLabels(raw);
    return new Template(id, version, structuredClone(raw) as unknown as TemplateBody);
  }

  get forms(): string[] {
    return Object.keys(this.body.forms);
  }

  get defaultForm(): string {
    return this.body.default_form;
  }

  get title(): string {
    return this.body.title;
  }

  schema(form?: string | null): JsonObject {
    const name = form ?? this.defaultForm;
    const schema = Object.hasOwn(this.body.forms, name) ? this.body.forms[name] : undefined;
    if (!schema) throw new UnknownTemplateError(`${this.id} v${this.version} has no form '${name}'`);
    return schema;
  }

  private validator(form: string): Validator {
    let v = this.validators.get(form);
    if (!v) {
      v = new Validator(this.schema(form) as Schema, "2020-12", false);
      for (const [uri, schema] of vocabSchemas) v.addSchema(schema, uri);
      this.validators.set(form, v);
    }
    return v;
  }

  /** Every reason `data` does not fit this form, sorted by field path. */
  errors(data: unknown, form?: string | null): FieldError[] {
    const name = form ?? this.defaultForm;
    const result = this.validator(name).validate(data);
    return result.valid ? [] : fieldErrors(result.errors, data);
  }

  validate(data: unknown, form?: string | null): void {
    const errors = this.errors(data, form);
    if (errors.length) throw new InvalidContentError(errors);
  }

  /** A field's label in a language (indices ignored), falling back to English, then the path. */
  label(path: string, lang = "en"): string {
    const key = path.replace(/\[\d+\]/g, "");
    const names = this.body.labels[key] ?? {};
    return names[lang] || names.en || key;
  }

  /** Dotted paths of every field of a form (arrays of objects descend into their items). */
  fieldPaths(form?: string | null): string[] {
    const out: string[] = [];
    const walk = (schema: JsonObject, prefix: string) => {
      const props = isObject(schema.properties) ? (schema.properties as Record<string, JsonObject>) : {};
      for (const [name, sub] of Object.entries(props)) {
        const path = prefix + name;
        out.push(path);
        const target = sub.type === "array" && isObject(sub.items) ? (sub.items as JsonObject) : sub;
        if (target.type === "object") walk(target, path + ".");
      }
    };
    walk(this.schema(form), "");
    return out;
  }
}

/** Message content as the SDK writes it: `{type, template: {id, version, form}, data}`. */
export interface Content {
  type: string;
  template: { id: string; version: number; form: string | null };
  data: Json;
  routing?: JsonObject;
  [extra: string]: unknown;
}

export const BUILTINS: readonly unknown[] = [seizureCase, vaccinePrenotification];

/** The templates a client knows: built-ins plus verified group-published versions. */
export class TemplateRegistry {
  private readonly templates = new Map<string, Template>();

  constructor(options: { builtins?: boolean } = {}) {
    if (options.builtins ?? true) for (const body of BUILTINS) this.add(Template.fromBody(body));
  }

  /** Register a version; re-adding the same body is a no-op, a different body an error. */
  add(template: Template): void {
    const key = `${template.id}\u0000${template.version}`;
    const known = this.templates.get(key);
    if (known && !equal(canonicalJson(known.body), canonicalJson(template.body))) {
      throw new TemplateError(`${template.id} v${template.version} is already a different template; publish a new version instead`);
    }
    this.templates.set(key, template);
  }

  /** Verify a signed template document (§12) against the roster's trusted keys, then register it. */
  async addSigned(document: unknown, groupId: string, trustedKeys: readonly Uint8Array[]): Promise<Template> {
    const body = await verifySignedTemplate(document, groupId, trustedKeys);
    const template = Template.fromBody(body);
    this.add(template);
    return template;
  }

  get(templateId: string, version?: number | null): Template {
    const versions = this.versions(templateId);
    const chosen = version ?? versions[versions.length - 1];
    if (chosen === undefined) throw new UnknownTemplateError(`unknown template '${templateId}'`);
    const template = this.templates.get(`${templateId}\u0000${chosen}`);
    if (!template) throw new UnknownTemplateError(`unknown template version ${templateId} v${chosen}`);
    return template;
  }

  versions(templateId: string): number[] {
    return [...this.templates.values()].filter((t) => t.id === templateId).map((t) => t.version).sort((a, b) => a - b);
  }

  ids(): string[] {
    return [...new Set([...this.templates.values()].map((t) => t.id))].sort();
  }

  /** Validate, then encode message content (call before encrypting). */
  makeContent(kind: string, templateId: string, data: Json, options: { version?: number | null; form?: string | null; extra?: Record<string, Json> } = {}): Uint8Array {
    const template = this.get(templateId, options.version);
    const chosen = options.form ?? template.defaultForm;
    template.validate(data, chosen);
    const content = { type: kind, template: { id: template.id, version: template.version, form: chosen }, data, ...(options.extra ?? {}) };
    return new TextEncoder().encode(JSON.stringify(content));
  }

  /** Decode and validate decrypted content against the version it was written in. */
  readContent(raw: Uint8Array): Content {
    let content: unknown;
    try {
      content = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(raw));
    } catch {
      throw new InvalidContentError([{ path: "", reason: "content is not JSON" }]);
    }
    const ref = isObject(content) ? content.template : undefined;
    if (!isObject(content) || !isObject(ref) || typeof content.type !== "string") {
      throw new InvalidContentError([{ path: "template", reason: "content names no template" }]);
    }
    if (typeof ref.version !== "number" || !Number.isSafeInteger(ref.version)) {
      throw new InvalidContentError([{ path: "template.version", reason: "must be an integer" }]);
    }
    const template = this.get(String(ref.id), ref.version);
    template.validate(content.data, typeof ref.form === "string" ? ref.form : null);
    return content as unknown as Content;
  }
}
