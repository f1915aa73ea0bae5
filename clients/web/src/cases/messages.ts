/** The seizure-case screens' strings, in all six languages (English the reference). */
import { defineMessages } from "../i18n";

export const casesMsg = defineMessages({
  en: {
    "cases.in_feed": "Seizure case item: open it in Cases",
  },
  fr: {
    "cases.in_feed": "Élément de cas de saisie : l'ouvrir dans Cas",
  },
  es: {
    "cases.in_feed": "Elemento de caso de incautación: abrirlo en Casos",
  },
  ru: {
    "cases.in_feed": "Элемент дела об изъятии: откройте его в разделе «Дела»",
  },
  ar: {
    "cases.in_feed": "عنصر من قضية ضبط: افتحه في القضايا",
  },
  pt: {
    "cases.in_feed": "Item de caso de apreensão: abra-o em Casos",
  },
});
