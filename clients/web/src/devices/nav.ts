/** The navigation label of the devices screen: the only devices string the app shell (and so
 * the login bundle) carries; the screen's own strings load with its chunk (`messages.ts`). */
import { defineMessages } from "../i18n";

export const navLabel = defineMessages({
  en: { devices: "Devices" },
  fr: { devices: "Appareils" },
  es: { devices: "Dispositivos" },
  ru: { devices: "Устройства" },
  ar: { devices: "الأجهزة" },
  pt: { devices: "Dispositivos" },
});
