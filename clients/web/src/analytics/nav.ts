/** The nav entry's label alone, so the shell (login bundle) carries one string, not the
 * analytics chunk's catalogue. */
import { defineMessages } from "../i18n";

export const analyticsNav = defineMessages({
  en: { nav: "Analytics" },
  fr: { nav: "Analyses" },
  es: { nav: "Análisis" },
  ru: { nav: "Аналитика" },
  ar: { nav: "التحليلات" },
  pt: { nav: "Análises" },
});
