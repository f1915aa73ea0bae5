import { render } from "preact";
import { App } from "./app/App";
import "./app/styles.css";
import { language, loadLanguage } from "./i18n";
import { registerServiceWorker } from "./pwa/register";

// The chosen language's catalogue (its own chunk unless English) before the first render.
const root = document.getElementById("app");
void loadLanguage(language.value)
  .catch(() => undefined)
  .then(() => root && render(<App />, root));
registerServiceWorker();
