/**
 * A form generated from a template's JSON Schema (the group's signed pre-notification
 * template): one labelled input per field, a list of code labels for a controlled vocabulary,
 * rows for arrays of objects (lots), comma-separated text for arrays of values. The data is
 * rebuilt and validated by the template on every keystroke; a field's reasons show once it was
 * touched (all of them after a send attempt), tied to the input with `aria-describedby`.
 */
import { useId } from "preact/hooks";
import { language } from "../i18n";
import { m } from "./messages";

type Schema = Record<string, unknown>;

/** What the form needs of a template (the records layer's `Template` fits it). */
export interface FormTemplate {
  readonly version: number;
  schema(form?: string | null): Schema;
  errors(data: unknown, form?: string | null): { path: string; reason: string }[];
  label(path: string, lang?: string): string;
}

/** A vocabulary's codes with their labels in a language. */
export type Codes = (vocabulary: string, lang: string) => { code: string | number; label: string }[];

export interface FormState {
  values: Record<string, string>;
  rows: Record<string, number>;
  touched: Set<string>;
}

export const emptyForm = (): FormState => ({ values: {}, rows: {}, touched: new Set() });

const VOCAB = "urn:cordon:vocab:";
const vocabOf = (s: Schema) => (typeof s.$ref === "string" && s.$ref.startsWith(VOCAB) ? s.$ref.slice(VOCAB.length) : null);
const props = (s: Schema) => (s.properties ?? {}) as Record<string, Schema>;

function scalar(schema: Schema, text: string, codes: Codes): unknown {
  const vocab = vocabOf(schema);
  if (vocab) {
    const found = codes(vocab, "en").find((c) => String(c.code) === text);
    return found ? found.code : text;
  }
  if (schema.type === "integer" || schema.type === "number") {
    const n = Number(text.trim());
    return text.trim() === "" || Number.isNaN(n) ? text : n;
  }
  return text;
}

/** The data the inputs describe (empty fields and empty objects left out). */
export function formData(schema: Schema, state: FormState, codes: Codes, prefix = ""): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, sub] of Object.entries(props(schema))) {
    const path = prefix + name;
    if (sub.type === "object") {
      const inner = formData(sub, state, codes, `${path}.`);
      if (Object.keys(inner).length) out[name] = inner;
    } else if (sub.type === "array" && (sub.items as Schema)?.type === "object") {
      const rows: Record<string, unknown>[] = [];
      for (let i = 0; i < (state.rows[path] ?? 1); i++) {
        const row = formData(sub.items as Schema, state, codes, `${path}[${i}].`);
        if (Object.keys(row).length) rows.push(row);
      }
      if (rows.length) out[name] = rows;
    } else if (sub.type === "array") {
      const text = state.values[path]?.trim();
      if (text) out[name] = text.split(",").map((v) => scalar(sub.items as Schema, v.trim(), codes));
    } else {
      const text = state.values[path];
      if (text !== undefined && text !== "") out[name] = scalar(sub, text, codes);
    }
  }
  return out;
}

/** The inputs that describe `data` (formData's inverse): an amendment starts from the version it amends. */
export function formStateOf(schema: Schema, data: Record<string, unknown>, prefix = "", into: FormState = emptyForm()): FormState {
  for (const [name, sub] of Object.entries(props(schema))) {
    const path = prefix + name;
    const value = data[name];
    if (value === undefined || value === null) continue;
    if (sub.type === "object" && typeof value === "object") formStateOf(sub, value as Record<string, unknown>, `${path}.`, into);
    else if (sub.type === "array" && (sub.items as Schema)?.type === "object" && Array.isArray(value)) {
      into.rows[path] = Math.max(1, value.length);
      value.forEach((row, i) => formStateOf(sub.items as Schema, (row ?? {}) as Record<string, unknown>, `${path}[${i}].`, into));
    } else if (Array.isArray(value)) into.values[path] = value.map(String).join(", ");
    else into.values[path] = String(value);
  }
  return into;
}

interface Props {
  template: FormTemplate;
  codes: Codes;
  state: FormState;
  onChange: (next: FormState) => void;
  showAll: boolean;
}

/** The reasons per dotted path for the current data. */
export function problems(template: FormTemplate, data: unknown): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const e of template.errors(data)) out.set(e.path, [...(out.get(e.path) ?? []), e.reason]);
  return out;
}

function Input({ path, schema, props: p, required }: { path: string; schema: Schema; props: Props & { problems: Map<string, string[]> }; required: boolean }) {
  const id = useId();
  const lang = language.value;
  const vocab = vocabOf(schema.type === "array" ? ((schema.items as Schema) ?? {}) : schema);
  const reasons = p.showAll || p.state.touched.has(path) ? (p.problems.get(path) ?? []) : [];
  const value = p.state.values[path] ?? "";
  const set = (text: string) => p.onChange({ ...p.state, values: { ...p.state.values, [path]: text }, touched: new Set([...p.state.touched, path]) });
  const described = [reasons.length ? `${id}-err` : "", schema.type === "array" ? `${id}-hint` : ""].filter(Boolean).join(" ") || undefined;
  const common = { id, name: path, "aria-invalid": reasons.length ? ("true" as const) : undefined, "aria-describedby": described, "aria-required": required || undefined };
  const label = p.template.label(path, lang);
  let control;
  if (vocab && schema.type !== "array") {
    control = (
      <select {...common} value={value} onChange={(e) => set((e.currentTarget as HTMLSelectElement).value)}>
        <option value="">{m("choose")}</option>
        {p.codes(vocab, lang).map((c) => (
          <option key={String(c.code)} value={String(c.code)}>
            {c.label === String(c.code) ? c.label : `${c.label} (${c.code})`}
          </option>
        ))}
      </select>
    );
  } else if (schema.maxLength !== undefined && Number(schema.maxLength) > 200) {
    control = <textarea {...common} value={value} onInput={(e) => set((e.currentTarget as HTMLTextAreaElement).value)} />;
  } else {
    const numeric = schema.type === "integer" || schema.type === "number";
    const example = schema.format === "date" ? "2027-03-01" : schema.format === "date-time" ? "2027-03-01T15:30:00Z" : undefined;
    control = <input {...common} type="text" placeholder={example} inputMode={numeric ? "decimal" : undefined} dir={numeric || schema.format ? "ltr" : "auto"} value={value} onInput={(e) => set((e.currentTarget as HTMLInputElement).value)} />;
  }
  return (
    <div class={reasons.length ? "field invalid" : "field"}>
      <label for={id}>
        {label}
        {required && <span aria-hidden="true"> *</span>}
      </label>
      {control}
      {schema.type === "array" && (
        <p class="hint" id={`${id}-hint`}>
          {m("list_hint")}
          {vocab ? ` (${vocab})` : ""}
        </p>
      )}
      {reasons.length > 0 && (
        <p class="field-error" id={`${id}-err`}>
          {reasons.join("; ")}
        </p>
      )}
    </div>
  );
}

function Fields({ schema, prefix, props: p }: { schema: Schema; prefix: string; props: Props & { problems: Map<string, string[]> } }) {
  const required = new Set((schema.required ?? []) as string[]);
  return (
    <>
      {Object.entries(props(schema)).map(([name, sub]) => {
        const path = prefix + name;
        if (sub.type === "object") {
          return (
            <fieldset key={path} class="group-fields">
              <legend>{p.template.label(path, language.value)}</legend>
              <Fields schema={sub} prefix={`${path}.`} props={p} />
            </fieldset>
          );
        }
        if (sub.type === "array" && (sub.items as Schema)?.type === "object") {
          const count = p.state.rows[path] ?? 1;
          return (
            <fieldset key={path} class="group-fields">
              <legend>{p.template.label(path, language.value)}</legend>
              {Array.from({ length: count }, (_, i) => (
                <div class="row-fields" key={i}>
                  <Fields schema={sub.items as Schema} prefix={`${path}[${i}].`} props={p} />
                  {count > 1 && i === count - 1 && (
                    <button type="button" class="link" onClick={() => p.onChange({ ...p.state, rows: { ...p.state.rows, [path]: count - 1 } })}>
                      {m("remove_row", { n: String(i + 1) })}
                    </button>
                  )}
                </div>
              ))}
              <button type="button" class="secondary" onClick={() => p.onChange({ ...p.state, rows: { ...p.state.rows, [path]: count + 1 } })}>
                {m("add_row")}
              </button>
            </fieldset>
          );
        }
        return <Input key={path} path={path} schema={sub} props={p} required={required.has(name)} />;
      })}
    </>
  );
}

export function TemplateForm(props: Props) {
  const data = formData(props.template.schema(), props.state, props.codes);
  const found = problems(props.template, data);
  return <Fields schema={props.template.schema()} prefix="" props={{ ...props, problems: found }} />;
}
