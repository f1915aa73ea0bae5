import { defineConfig } from "@playwright/test";

// Debian's Chromium (apt-get install chromium); a test tool's own browser download fails on
// this network. Flags as the machine's notes give them for a closed network. The server is
// started by the tests themselves (tests/browser/server.ts), one per run.
export default defineConfig({
  testDir: "tests/browser",
  globalSetup: "./tests/browser/global-setup.ts",
  timeout: 60_000,
  // How long an expectation waits for the page, not a speed claim: unlocking runs scrypt and
  // verifies the group's log, which took over the 5 s default once on a loaded 2-core machine.
  expect: { timeout: 15_000 },
  workers: 1,
  reporter: [["list"]],
  use: {
    launchOptions: {
      executablePath: process.env.CORDON_CHROMIUM ?? "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
});
