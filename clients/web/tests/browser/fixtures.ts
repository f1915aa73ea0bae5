/**
 * The browser tests' fixtures: one real server per run, and for every page a watch on the
 * console that fails the test on any Content-Security-Policy violation or uncaught error.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import AxeBuilder from "@axe-core/playwright";
import { test as base, expect, type Page } from "@playwright/test";
import { CordonServer, REPO_ROOT } from "./server";

export { expect };

interface Fixtures {
  problems: string[];
}

export const test = base.extend<Fixtures, { server: CordonServer }>({
  server: [
    async ({}, use) => {
      const server = await CordonServer.start();
      await use(server);
      await server.stop();
    },
    { scope: "worker", timeout: 60_000 },
  ],
  baseURL: async ({ server }, use) => use(server.base),
  problems: [
    async ({ page }, use) => {
      const problems: string[] = [];
      page.on("console", (message) => {
        if (/Content.Security.Policy/i.test(message.text())) problems.push(`CSP: ${message.text()}`);
      });
      page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
      await use(problems);
      expect(problems, "no CSP violation or uncaught error").toEqual([]);
    },
    { auto: true },
  ],
});

/** axe-core's WCAG 2.1 A/AA rules: no serious or critical violation on this screen. */
export async function expectAccessible(page: Page, screen: string): Promise<void> {
  // @axe-core/playwright pins its own playwright-core patch release: same API, other type.
  const results = await new AxeBuilder({ page: page as never }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  const bad = results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  expect(bad, `axe on ${screen}`).toEqual([]);
}

/** The page fits its viewport: nothing scrolls sideways. */
export async function expectNoHorizontalScroll(page: Page, screen: string): Promise<void> {
  const { scroll, width } = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    width: document.documentElement.clientWidth,
  }));
  expect(scroll, `${screen} scrolls sideways`).toBeLessThanOrEqual(width);
}

/** With CORDON_SCREENSHOTS=1 (`npm run screenshots`), the README's pictures of each screen. */
export async function screenshot(page: Page, name: string): Promise<void> {
  if (process.env.CORDON_SCREENSHOTS !== "1") return;
  const dir = path.join(REPO_ROOT, "docs", "screenshots");
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage: true });
}

export const PASSWORD = "correct horse battery staple";
