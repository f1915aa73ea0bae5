import { defineConfig } from "@playwright/test";
import base from "../playwright.config";

// `npx playwright test -c bench/playwright.feed.config.ts`: the feed benchmark in Chromium
// (bench/feed_chromium.spec.ts) against a real server, never part of the browser tests.
export default defineConfig({
  ...base,
  testDir: ".",
  testMatch: "feed_chromium.spec.ts",
  globalSetup: "../tests/browser/global-setup.ts",
  timeout: 1_800_000,
  expect: { timeout: 600_000 },
});
