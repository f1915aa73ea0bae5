/**
 * The browser tests' fixtures: one real server per run, and for every page a watch on the
 * console that fails the test on any Content-Security-Policy violation or uncaught error.
 */
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import AxeBuilder from "@axe-core/playwright";
import { test as base, expect, type Page } from "@playwright/test";
import { CordonServer, REPO_ROOT, WEB_ROOT } from "./server";
import { totp } from "./totp";

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

/** The keystore passphrase the browser members protect their keys with. */
export const KEY_PASSPHRASE = "browser keystore passphrase";

export type Json = Record<string, unknown>;
const run = promisify(execFile);
const PYTHON = path.join(REPO_ROOT, ".venv/bin/python");

/**
 * One step of a Python helper here (`sdk_member.py enrol …`): the real SDK as a second client.
 * Its last stdout line is the step's JSON result.
 */
export async function py(helper: string, step: string, ...args: string[]): Promise<Json> {
  const here = path.join(WEB_ROOT, "tests/browser");
  const { stdout } = await run(PYTHON, [path.join(here, helper), step, ...args], { timeout: 90_000, cwd: here });
  return JSON.parse(stdout.trim().split("\n").at(-1)!) as Json;
}

/** One step of the SDK member helper, sdk_member.py. */
export const sdk = (step: string, ...args: string[]): Promise<Json> => py("sdk_member.py", step, ...args);

/** Log in through the form; done when the groups screen shows. */
export async function logIn(page: Page, username: string, code: string | null = null): Promise<void> {
  await page.goto("/login");
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(PASSWORD);
  if (code) await page.getByLabel("Authenticator code").fill(code);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByRole("heading", { name: "Groups" })).toBeVisible();
}

/** Desktop then phone (360 px): nothing scrolls sideways, axe finds nothing serious, the pictures. */
export async function checkScreen(page: Page, name: string): Promise<void> {
  for (const [kind, size] of [["desktop", { width: 1280, height: 800 }], ["phone", { width: 360, height: 740 }]] as const) {
    await page.setViewportSize(size);
    await expectNoHorizontalScroll(page, `${name} (${kind})`);
    await expectAccessible(page, `${name} (${kind})`);
    await screenshot(page, `${name}-${kind}`);
  }
  await page.setViewportSize({ width: 1280, height: 800 });
}

/** From the sessions screen, turn TOTP on (coordinators must have it); returns the seed. */
export async function turnOnTotp(page: Page): Promise<string> {
  await page.getByRole("link", { name: "Sessions" }).click();
  await page.getByRole("button", { name: "Turn on two-step verification" }).click();
  const seed = (await page.getByTestId("totp-secret").textContent())?.trim() ?? "";
  await page.getByLabel("Code from the app").fill(totp(seed));
  await page.getByRole("button", { name: "Confirm" }).click();
  await expect(page.getByRole("status")).toHaveText("Two-step verification is now on.");
  return seed;
}

/** The first time keys are needed on a device: choose the passphrase that seals them. */
export async function protectKeys(page: Page): Promise<void> {
  await page.getByLabel("Passphrase", { exact: true }).fill(KEY_PASSPHRASE);
  await page.getByLabel("Passphrase again").fill(KEY_PASSPHRASE);
  await page.getByRole("button", { name: "Protect the keys" }).click();
}

/**
 * A Python SDK coordinator (its own state directory) and a group it opened, as an operator
 * and a coordinator make them. `common` is what every SDK step of that coordinator takes;
 * `opened` holds the first invitation and the group key's fingerprint.
 */
export async function sdkCoordinatorGroup(server: CordonServer, coordinator: string, groupName: string, displayName?: string) {
  const home = mkdtempSync(path.join(tmpdir(), "cordon-coord-"));
  const common = ["--server", server.base, "--home", home];
  const coord = await sdk("enrol", ...common, "--code", await server.createUser(coordinator, { displayName }), "--username", coordinator);
  const created = await server.admin("create-group", groupName, "--coordinator", coordinator);
  const groupId = /group ([0-9a-f-]{36})/.exec(created)![1]!;
  const opened = await sdk("open", ...common, "--group", groupId);
  return { home, common, coord, groupId, opened };
}

/** A new browser member answers an invitation: log in, protect the keys, send the join request. */
export async function askToJoin(page: Page, username: string, invitation: unknown): Promise<void> {
  await logIn(page, username);
  await page.getByRole("link", { name: "Alerts" }).click();
  await protectKeys(page);
  await page.getByLabel("Invitation from your coordinator").fill(String(invitation));
  await page.getByRole("button", { name: "Send the join request" }).click();
  await expect(page.getByLabel("Invitation from your coordinator")).toHaveValue("");
}

/** Once admitted: the group list loads anew and the group opens on Alerts (certifying this device the first time). */
export async function openInFeed(page: Page, groupName: string): Promise<void> {
  await page.getByRole("link", { name: "Sessions" }).click();
  await page.getByRole("link", { name: "Alerts" }).click();
  await page.getByRole("button", { name: groupName }).click();
}

/**
 * Let the test decide when the live feed's frames reach the page: `hold` keeps every frame the
 * server sends (in order) until `release`, so an item arrives after something else, every run.
 * Routes sockets opened after it is installed.
 */
export async function feedFrames(page: Page): Promise<{ hold: () => void; release: () => void }> {
  let held: (() => void)[] | null = null;
  await page.routeWebSocket(/\/api\/v1\/ws$/, (ws) => {
    const server = ws.connectToServer();
    server.onMessage((frame) => (held ? held.push(() => ws.send(frame)) : ws.send(frame)));
  });
  return {
    hold: () => void (held ??= []),
    release: () => {
      const frames = held ?? [];
      held = null;
      for (const send of frames) send();
    },
  };
}
