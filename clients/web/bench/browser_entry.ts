/** The Chromium runner's page script: the shared operations, CPU clock unavailable in a page. */

import { runOps } from "./ops";

(globalThis as unknown as { cordonBench: () => Promise<unknown> }).cordonBench = async () => (await runOps(() => null)).rows;
