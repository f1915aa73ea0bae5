/** The navigation label of the pre-notification screens: in the shell (login bundle), so kept
 * apart from the screens' own strings (`messages.ts`, in the lazy chunk). */
import { defineMessages } from "../i18n";

export const pnNav = defineMessages({
  en: { nav: "Pre-notifications" },
  fr: { nav: "Pré-notifications" },
  es: { nav: "Prenotificaciones" },
  ru: { nav: "Предуведомления" },
  ar: { nav: "الإخطارات المسبقة" },
  pt: { nav: "Pré-notificações" },
});
