/**
 * The UI's languages. The choice is kept in this browser per user (and the last one used for
 * the login screen), and drives `<html lang dir>`: Arabic is laid out right to left.
 */
import { computed, signal } from "@preact/signals";
import { ApiError, NetworkError } from "../api/client";
import { ar } from "./ar";
import { type Catalogue, en, type MessageKey } from "./en";
import { es } from "./es";
import { fr } from "./fr";
import { pt } from "./pt";
import { ru } from "./ru";

export type { MessageKey } from "./en";

export const LANGUAGES = {
  en: { name: "English", dir: "ltr", messages: en as Catalogue },
  fr: { name: "Français", dir: "ltr", messages: fr },
  es: { name: "Español", dir: "ltr", messages: es },
  ru: { name: "Русский", dir: "ltr", messages: ru },
  ar: { name: "العربية", dir: "rtl", messages: ar },
  pt: { name: "Português", dir: "ltr", messages: pt },
} as const satisfies Record<string, { name: string; dir: "ltr" | "rtl"; messages: Catalogue }>;

export type Language = keyof typeof LANGUAGES;

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
  const text = LANGUAGES[language.value].messages[key] ?? en[key];
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
  return new Intl.DateTimeFormat(language.value, {
    dateStyle: "medium",
    timeStyle: "short",
  }).format(new Date(iso));
}
