/**
 * The UI's languages. The choice is kept in this browser per user (and the last one used for
 * the login screen), and drives `<html lang dir>`: Arabic is laid out right to left.
 */
import { computed, effect, signal } from "@preact/signals";
import { ApiError, NetworkError } from "../api/client";
import { type Catalogue, en, type MessageKey } from "./en";

export type { MessageKey } from "./en";

/** English is in the login bundle; each other catalogue is its own chunk, fetched when chosen. */
export const LANGUAGES = {
  en: { name: "English", dir: "ltr", load: () => Promise.resolve(en as Catalogue) },
  fr: { name: "Français", dir: "ltr", load: () => import("./fr").then((m) => m.fr) },
  es: { name: "Español", dir: "ltr", load: () => import("./es").then((m) => m.es) },
  ru: { name: "Русский", dir: "ltr", load: () => import("./ru").then((m) => m.ru) },
  ar: { name: "العربية", dir: "rtl", load: () => import("./ar").then((m) => m.ar) },
  pt: { name: "Português", dir: "ltr", load: () => import("./pt").then((m) => m.pt) },
} as const satisfies Record<string, { name: string; dir: "ltr" | "rtl"; load: () => Promise<Catalogue> }>;

export type Language = keyof typeof LANGUAGES;

/** The catalogues fetched so far; `t` reads it, so screens re-render when one arrives. */
const loaded = signal<Partial<Record<Language, Catalogue>>>({ en: en as Catalogue });

/** Fetch a language's catalogue once (the app awaits the first before its first render). */
export async function loadLanguage(code: Language): Promise<Catalogue> {
  const have = loaded.value[code];
  if (have) return have;
  const catalogue = await LANGUAGES[code].load();
  loaded.value = { ...loaded.value, [code]: catalogue };
  return catalogue;
}

const LAST_KEY = "cordon.language";
const userKey = (username: string) => `cordon.language.${username}`;

export function isLanguage(value: unknown): value is Language {
  return typeof value === "string" && Object.hasOwn(LANGUAGES, value);
}

/** The browser's preferred language among ours, else English. */
export function preferredLanguage(preferences: readonly string[]): Language {
  for (const tag of preferences) {
    const base = tag.toLowerCase().split("-")[0];
    if (isLanguage(base)) return base;
  }
  return "en";
}

function stored(key: string): Language | null {
  try {
    const value = localStorage.getItem(key);
    return isLanguage(value) ? value : null;
  } catch {
    return null;
  }
}

function store(key: string, language: Language): void {
  try {
    localStorage.setItem(key, language);
  } catch {
    // storage disabled: the choice lasts for this page only
  }
}

function initial(): Language {
  if (typeof localStorage === "undefined") return "en";
  return stored(LAST_KEY) ?? preferredLanguage(navigator.languages ?? []);
}

export const language = signal<Language>(initial());
export const direction = computed(() => LANGUAGES[language.value].dir);
// Whatever picks a language (switch, login, browser preference), its catalogue follows.
effect(() => void loadLanguage(language.value).catch(() => undefined));
let currentUser: string | null = null;

/** Switch language; remembered for the logged-in user (and as the last one used). */
export function setLanguage(next: Language): void {
  language.value = next;
  store(LAST_KEY, next);
  if (currentUser) store(userKey(currentUser), next);
}

/** A user logged in (or out): take up the language they chose here before, if any. */
export function useLanguageOf(username: string | null): void {
  currentUser = username;
  if (!username) return;
  const theirs = stored(userKey(username));
  if (theirs) language.value = theirs;
  else store(userKey(username), language.value);
}

/** A message of the current language, with `{name}` placeholders filled. */
export function t(key: MessageKey, values: Record<string, string> = {}): string {
  const text = loaded.value[language.value]?.[key] ?? en[key];
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => values[name] ?? whole);
}

/** Every feature catalogue defined so far, for the completeness test. */
export const featureCatalogues: Array<Record<Language, Record<string, string>>> = [];

/** A feature's own catalogue in every language, kept in the feature's folder (`messages.ts`)
 * so features grow their strings without touching each other's; English is the reference and
 * every other language must have exactly its keys (the type checker holds them to it). */
export function defineMessages<K extends string>(
  catalogues: { en: Record<K, string> } & Record<Exclude<Language, "en">, Record<K, string>>,
): (key: K, values?: Record<string, string>) => string {
  featureCatalogues.push(catalogues);
  return (key, values = {}) => {
    const text = catalogues[language.value][key] ?? catalogues.en[key];
    return text.replace(/\{(\w+)\}/g, (whole, name: string) => values[name] ?? whole);
  };
}

/** Whether the catalogue has a message for this key. */
function known(key: string): key is MessageKey {
  return Object.hasOwn(en, key);
}

export interface Described {
  message: string;
  code: string | null;
}

/** One plain-language line for a failure, with the stable code kept for support. */
export function describeError(error: unknown): Described {
  if (error instanceof NetworkError) return { message: t("error.network"), code: null };
  if (error instanceof ApiError) {
    const key = `error.${error.code}`;
    if (known(key)) return { message: t(key), code: error.code };
    return {
      message: error.status >= 500 ? t("error.generic") : t("error.refused"),
      code: error.code,
    };
  }
  return { message: t("error.generic"), code: null };
}

/** A date and time in the user's language. */
export function formatDate(iso: string): string {
  return dateFormat(language.value).format(new Date(iso));
}

/** One formatter per language (making one costs more than formatting: it ran per row render). */
const dateFormats = new Map<string, Intl.DateTimeFormat>();
function dateFormat(lang: string): Intl.DateTimeFormat {
  let format = dateFormats.get(lang);
  if (!format) dateFormats.set(lang, (format = new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short" })));
  return format;
}
