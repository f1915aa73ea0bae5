/** The nav entry's label alone, so the shell (login bundle) carries one string, not the
 * cases chunk's catalogue. */
import { defineMessages } from "../i18n";

export const casesNav = defineMessages({
  en: { "cases.nav": "Cases" },
  fr: { "cases.nav": "Cas" },
  es: { "cases.nav": "Casos" },
  ru: { "cases.nav": "Дела" },
  ar: { "cases.nav": "القضايا" },
  pt: { "cases.nav": "Casos" },
});
