import { render } from "preact";
import { App } from "./app/App";
import "./app/styles.css";
import { registerServiceWorker } from "./pwa/register";

const root = document.getElementById("app");
if (root) render(<App />, root);
registerServiceWorker();
