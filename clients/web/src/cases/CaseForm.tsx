/**
 * A seizure-case form generated from the template's JSON Schema (full or simplified form):
 * code lists as selects labelled in the officer's language, validated against the template
 * as the officer types, each field with its own message (shown once the field was left, or
 * on submit), nothing sent until the whole form fits the template.
 */
import { Fragment } from "preact";
import { useState } from "preact/hooks";
import { language } from "../i18n";
import type { Json, JsonObject, Template } from "../records/templates";
import { codeOptions, dottedPath, errorsByPath, errorText, fieldId, getAt, kindOf, type Path, prune, setAt } from "./form";
import { casesMsg } from "./messages";

export interface CaseFormProps {
  template: Template;
  title: string;
  submitLabel: string;
  initialForm?: string | null;
  initialData?: Json | null;
  /** Offer the form choice (a new case); an amendment keeps its case's form. */
  chooseForm?: boolean;
  allowUrgent?: boolean;
  onSubmit: (form: string, data: Json, urgent: boolean) => Promise<void>;
  onChange?: (form: string, data: Json) => void;
  onCancel?: () => void;
}

/** Empty entries for lists the form needs at least one of (reports, items). */
function seed(node: JsonObject): JsonObject {
  const out: JsonObject = {};
  const shape = kindOf(node);
  if (shape.kind !== "object") return out;
  for (const [name, sub] of shape.properties) {
    const k = kindOf(sub);
    if (k.kind === "objects" && shape.required.has(name)) out[name] = Array.from({ length: Math.max(1, k.minItems) }, () => seed(k.item));
  }
  return out;
}

const NUMBER = /^-?\d+(\.\d+)?$/;

export function CaseForm(props: CaseFormProps) {
  const { template } = props;
  const lang = language.value;
  const [form, setForm] = useState(props.initialForm && template.forms.includes(props.initialForm) ? props.initialForm : template.defaultForm);
  const [data, setData] = useState<Json>(props.initialData ?? seed(template.schema(form)));
  const [touched, setTouched] = useState<ReadonlySet<string>>(new Set());
  const [tried, setTried] = useState(false);
  const [urgent, setUrgent] = useState(false);
  const [busy, setBusy] = useState(false);
  const pruned = prune(data) ?? {};
  const errors = template.errors(pruned, form);
  const byPath = errorsByPath(errors);

  function update(path: Path, value: Json | undefined) {
    const next = setAt(data, path, value);
    setData(next);
    props.onChange?.(form, next);
  }
  const touch = (path: Path) => setTouched((old) => new Set(old).add(dottedPath(path)));
  const shown = (path: Path) => (tried || touched.has(dottedPath(path)) ? (byPath.get(dottedPath(path)) ?? []) : []);

  // Render helpers are called as functions, not mounted as components: a component defined
  // inside this one would be a new type on each render, remounting inputs and losing focus.
  function messages(path: Path) {
    const list = shown(path);
    if (!list.length) return null;
    return (
      <p class="field-error" id={`${fieldId(path)}-err`}>
        {list.map(errorText).join(" ")}
      </p>
    );
  }

  function leaf(node: JsonObject, path: Path, required: boolean) {
    const id = fieldId(path);
    const shape = kindOf(node);
    const value = getAt(data, path);
    const invalid = shown(path).length > 0;
    const aria = { "aria-invalid": invalid ? ("true" as const) : undefined, "aria-describedby": invalid ? `${id}-err` : undefined, "aria-required": required ? ("true" as const) : undefined };
    const common = { id, name: dottedPath(path), onBlur: () => touch(path), ...aria };
    let input;
    switch (shape.kind) {
      case "code": {
        const options = codeOptions(shape.vocab, shape.options, lang);
        input = (
          <select {...common} value={value === undefined ? "" : String(value)} onChange={(e) => update(path, options.find((o) => String(o.code) === e.currentTarget.value)?.code)}>
            <option value="">{casesMsg("cases.choose")}</option>
            {options.map((o) => (
              <option key={String(o.code)} value={String(o.code)}>
                {o.label}
              </option>
            ))}
          </select>
        );
        break;
      }
      case "codes": {
        const options = codeOptions(shape.vocab, shape.options, lang);
        const chosen = new Set((Array.isArray(value) ? value : []).map(String));
        input = (
          <select {...common} multiple size={4} onChange={(e) => update(path, options.filter((o) => [...e.currentTarget.selectedOptions].some((s) => s.value === String(o.code))).map((o) => o.code))}>
            {options.map((o) => (
              <option key={String(o.code)} value={String(o.code)} selected={chosen.has(String(o.code))}>
                {o.label}
              </option>
            ))}
          </select>
        );
        break;
      }
      case "strings":
        input = <textarea {...common} rows={2} dir="auto" value={Array.isArray(value) ? value.join("\n") : ""} onInput={(e) => update(path, e.currentTarget.value.split("\n").map((s) => s.trim()).filter(Boolean))} />;
        break;
      case "boolean":
        input = (
          <select {...common} value={value === true ? "yes" : value === false ? "no" : ""} onChange={(e) => update(path, e.currentTarget.value === "yes" ? true : e.currentTarget.value === "no" ? false : undefined)}>
            <option value="">{casesMsg("cases.choose")}</option>
            <option value="yes">{casesMsg("cases.yes")}</option>
            <option value="no">{casesMsg("cases.no")}</option>
          </select>
        );
        break;
      case "number":
        input = <input {...common} type="text" inputMode="decimal" dir="ltr" value={value === undefined ? "" : String(value)} onInput={(e) => update(path, NUMBER.test(e.currentTarget.value.trim()) ? Number(e.currentTarget.value) : e.currentTarget.value || undefined)} />;
        break;
      case "date":
        input = <input {...common} type="date" dir="ltr" value={typeof value === "string" ? value : ""} onInput={(e) => update(path, e.currentTarget.value || undefined)} />;
        break;
      case "datetime":
        input = <input {...common} type="datetime-local" dir="ltr" value={typeof value === "string" ? value.replace(/(:\d\d)?(\.\d+)?Z$/, "") : ""} onInput={(e) => update(path, e.currentTarget.value ? `${e.currentTarget.value}Z` : undefined)} />;
        break;
      default:
        input = shape.kind === "text" && shape.long ? <textarea {...common} rows={3} dir="auto" value={typeof value === "string" ? value : ""} onInput={(e) => update(path, e.currentTarget.value)} /> : <input {...common} type="text" dir="auto" value={typeof value === "string" ? value : ""} onInput={(e) => update(path, e.currentTarget.value)} />;
    }
    return (
      <div class={invalid ? "field invalid" : "field"}>
        <label for={id}>
          {template.label(dottedPath(path), lang)}
          {shape.kind === "datetime" && ` (${casesMsg("cases.utc")})`}
          {required && <span class="req" aria-hidden="true"> *</span>}
        </label>
        {input}
        {shape.kind === "codes" && <p class="hint">{casesMsg("cases.multi_hint")}</p>}
        {shape.kind === "strings" && <p class="hint">{casesMsg("cases.list_hint")}</p>}
        {messages(path)}
      </div>
    );
  }

  function fields(node: JsonObject, path: Path) {
    const shape = kindOf(node);
    if (shape.kind !== "object") return null;
    return (
      <>
        {shape.properties.map(([name, sub]) => (
          <Fragment key={name}>{field(sub, [...path, name], shape.required.has(name))}</Fragment>
        ))}
      </>
    );
  }

  function field(node: JsonObject, path: Path, required: boolean) {
    const shape = kindOf(node);
    const label = template.label(dottedPath(path), lang);
    if (shape.kind === "object") {
      return (
        <fieldset class="group-fields">
          <legend>
            {label}
            {required && <span class="req" aria-hidden="true"> *</span>}
          </legend>
          {messages(path)}
          {fields(node, path)}
        </fieldset>
      );
    }
    if (shape.kind === "objects") {
      const list = Array.isArray(getAt(data, path)) ? (getAt(data, path) as Json[]) : [];
      return (
        <fieldset class="group-fields list">
          <legend>
            {label}
            {required && <span class="req" aria-hidden="true"> *</span>}
          </legend>
          {messages(path)}
          {list.map((_, i) => (
            <fieldset key={i} class="entry">
              <legend>
                {label} {i + 1}
              </legend>
              {fields(shape.item, [...path, i])}
              <button type="button" class="secondary" onClick={() => update(path, list.filter((_x, j) => j !== i))}>
                {casesMsg("cases.remove", { what: label, n: String(i + 1) })}
              </button>
            </fieldset>
          ))}
          <button type="button" class="secondary" onClick={() => update(path, [...list, seed(shape.item)])}>
            {casesMsg("cases.add", { what: label })}
          </button>
        </fieldset>
      );
    }
    return leaf(node, path, required);
  }

  async function submit(event: Event) {
    event.preventDefault();
    setTried(true);
    if (errors.length) {
      const first = errors[0]!;
      requestAnimationFrame(() => document.querySelector<HTMLElement>(`[name="${CSS.escape(first.path)}"]`)?.focus());
      return;
    }
    setBusy(true);
    try {
      await props.onSubmit(form, pruned, urgent);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form class="card case-form" onSubmit={submit} noValidate>
      <h2>{props.title}</h2>
      <p class="hint">{casesMsg("cases.form_hint")}</p>
      {props.chooseForm && template.forms.length > 1 && (
        <fieldset class="form-kind">
          <legend>{casesMsg("cases.form_kind")}</legend>
          {template.forms.map((name) => (
            <label key={name} class="check">
              <input type="radio" name="form-kind" value={name} checked={form === name} onChange={() => (setForm(name), props.onChange?.(name, data))} />{" "}
              {name === "full" ? casesMsg("cases.form_full") : name === "simplified" ? casesMsg("cases.form_simplified") : name}
            </label>
          ))}
        </fieldset>
      )}
      {fields(template.schema(form), [])}
      {props.allowUrgent && (
        <label class="check">
          <input type="checkbox" name="urgent" checked={urgent} onChange={(e) => setUrgent(e.currentTarget.checked)} /> {casesMsg("cases.urgent")}
        </label>
      )}
      {tried && errors.length > 0 && (
        <p class="error" role="alert">
          {casesMsg("cases.fix_errors", { n: String(errors.length) })}
        </p>
      )}
      <div class="actions">
        <button type="submit" disabled={busy}>
          {props.submitLabel}
        </button>
        {props.onCancel && (
          <button type="button" class="secondary" onClick={props.onCancel}>
            {casesMsg("cases.cancel")}
          </button>
        )}
      </div>
    </form>
  );
}
