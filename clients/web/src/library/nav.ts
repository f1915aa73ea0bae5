/** The library's navigation label, the one string of this feature in the app shell (the rest,
 * `messages.ts`, comes with the lazy chunk). `defineMessages` holds all six languages to it. */
import { defineMessages } from "../i18n";

export const navLabel = defineMessages({
  en: { nav: "Library" },
  fr: { nav: "Bibliothèque" },
  es: { nav: "Biblioteca" },
  ru: { nav: "Библиотека" },
  ar: { nav: "المكتبة" },
  pt: { nav: "Biblioteca" },
});
