/** Small shared pieces of the screens: labelled fields and the one-line error. */
import type { ComponentChildren } from "preact";
import { useId } from "preact/hooks";
import { type Described, t } from "../i18n";

interface FieldProps {
  label: string;
  hint?: string;
  value: string;
  onInput: (value: string) => void;
  type?: "text" | "password";
  autoComplete?: string;
  inputMode?: "numeric" | "text";
  pattern?: string;
  maxLength?: number;
  required?: boolean;
  name: string;
  autoFocus?: boolean;
  dir?: "ltr" | "auto";
}

/** An input with its visible label and hint tied to it (WCAG 1.3.1, 3.3.2). */
export function Field(props: FieldProps) {
  const id = useId();
  const hintId = `${id}-hint`;
  const common = {
    id,
    name: props.name,
    value: props.value,
    onInput: (event: Event) => props.onInput((event.currentTarget as HTMLInputElement).value),
    autocomplete: props.autoComplete,
    inputMode: props.inputMode,
    pattern: props.pattern,
    maxLength: props.maxLength,
    required: props.required,
    "aria-describedby": props.hint ? hintId : undefined,
    autoFocus: props.autoFocus,
    dir: props.dir,
    spellcheck: false,
    autocapitalize: "off",
  } as const;
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      {props.type === "password" ? <input type="password" {...common} /> : <input type="text" {...common} />}
      {props.hint && (
        <p class="hint" id={hintId}>
          {props.hint}
        </p>
      )}
    </div>
  );
}

/** A failure as one line in the user's language, the stable code beside it for support. */
export function ErrorLine({ error }: { error: Described | null }) {
  if (!error) return null;
  return (
    <div class="error" role="alert">
      <p>{error.message}</p>
      {error.code && <p class="code">{t("common.error_code", { code: error.code })}</p>}
    </div>
  );
}

export function Notice({ children }: { children: ComponentChildren }) {
  return (
    <p class="notice" role="status">
      {children}
    </p>
  );
}

/** The screen's heading, focused when the screen opens so a screen reader announces it. */
export function ScreenTitle({ children }: { children: ComponentChildren }) {
  return (
    <h1 tabIndex={-1} class="screen-title">
      {children}
    </h1>
  );
}
