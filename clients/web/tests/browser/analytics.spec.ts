/**
 * Operation analytics in the browser, end to end against a real server: a Python SDK member
 * posts seizure cases through the real protocol; the browser coordinator opens /analytics and sees
 * the exact key figures computed on its own device from its verified archive; a case posted
 * while the screen is open updates the figures live; a number drills down to its cases. The
 * screen passes axe and fits a 360 px phone.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Page } from "@playwright/test";
import { expect, expectAccessible, expectNoHorizontalScroll, type Json, KEY_PASSPHRASE, logIn, PASSWORD, py, test, turnOnTotp } from "./fixtures";
import { REPO_ROOT } from "./server";
import { totp } from "./totp";

const SIMPLE = JSON.parse(readFileSync(path.join(REPO_ROOT, "clients/python/cordon_client/templates/seizure-case.v1.example.json"), "utf8")).simplified;

/** The simplified example case, from `country`, with one item of `quantity` pieces of `category`. */
function caseOf(country: string, category: string, quantity: number): string {
  const report = { ...SIMPLE.reports[0], items: [{ ...SIMPLE.reports[0].items[0], category, quantity }] };
  return JSON.stringify({ ...SIMPLE, reporting_country: country, reports: [report] });
}

const figure = (page: Page, name: string) => page.locator(`[data-figure="${name}"] dd`);

test("analytics: the SDK's cases give exact key figures in the browser, live, with drill-down", async ({ page, server }) => {
  test.setTimeout(300_000);
  const home = mkdtempSync(path.join(tmpdir(), "cordon-analytics-"));
  const common = ["--server", server.base, "--home", home];
  const coordCode = await server.createUser("carla.analytics", { displayName: "Carla Coordinator" });
  await py("sdk_member.py", "enrol", ...common, "--code", coordCode, "--username", "carla.analytics");
  const created = await server.admin("create-group", "Operation Figures", "--coordinator", "carla.analytics");
  const groupId = /group ([0-9a-f-]{36})/.exec(created)![1]!;
  const opened = await py("sdk_member.py", "open", ...common, "--group", groupId);
  const g = [...common, "--group", groupId];

  await server.enrolledUser("bruno.analytics", PASSWORD);
  await logIn(page, "bruno.analytics");
  // The browser user is the operation's second coordinator, who must have TOTP (server rule).
  const totpSeed = await turnOnTotp(page);
  await page.getByRole("link", { name: "Analytics" }).click();
  await expect(page.getByRole("heading", { name: "Operation analytics" })).toBeVisible();
  await page.getByLabel(/^Passphrase( \*)?$/).fill(KEY_PASSPHRASE);
  await page.getByLabel("Passphrase again").fill(KEY_PASSPHRASE);
  await page.getByRole("button", { name: "Protect the keys" }).click();
  await expect(page.getByText("You are in no group yet")).toBeVisible();
  await page.getByRole("link", { name: "Alerts" }).click();
  await page.getByLabel("Invitation from your coordinator").fill(String(opened.invitation));
  await page.getByRole("button", { name: "Send the join request" }).click();
  await expect(page.getByLabel("Invitation from your coordinator")).toHaveValue("");
  await py("sdk_member.py", "admit", ...g, "--role", "coordinator");

  // Opening the group certifies this device in the roster; the SDK's cases then reach it.
  await page.getByRole("link", { name: "Analytics" }).click();
  await expect(page.getByText("Every item in the archive was counted.")).toBeVisible();
  await py("sdk_cases.py", "post", ...g, "--data", caseOf("BE", "medicines", 4800));
  await py("sdk_cases.py", "post", ...g, "--data", caseOf("FR", "ppe", 1000));
  await expect(figure(page, "cases")).toHaveText("2");
  await expect(figure(page, "members_reporting")).toHaveText("2");
  await expect(figure(page, "seizure_reports")).toHaveText("2");
  await expect(figure(page, "pieces.medicines")).toHaveText("4,800");
  await expect(figure(page, "pieces.medical_devices")).toHaveText("1,000");
  await expect(figure(page, "pieces.total")).toHaveText("5,800");
  await expect(page.getByRole("heading", { name: "Every item in the archive was counted." })).toBeVisible();
  await expectNoHorizontalScroll(page, "analytics (desktop)");
  await expectAccessible(page, "analytics (desktop)");

  // Live: a case posted while the screen is open changes the figures without a reload.
  await py("sdk_cases.py", "post", ...g, "--data", caseOf("NG", "medicines", 200));
  await expect(figure(page, "cases")).toHaveText("3");
  await expect(figure(page, "members_reporting")).toHaveText("3");
  await expect(figure(page, "pieces.medicines")).toHaveText("5,000");

  // Filter and drill-down: Europe holds BE and FR; the number lists the cases, linked to /cases.
  await page.getByRole("combobox", { name: "Region" }).selectOption("EUR");
  await expect(figure(page, "cases")).toHaveText("2");
  await page.getByRole("button", { name: "Show the cases behind Cases: 2" }).click();
  const links = page.locator(".an-drill a");
  await expect(links).toHaveCount(2);
  await expect(links.first()).toHaveAttribute("href", new RegExp(`^/cases\\?group=${groupId}&seq=\\d+$`));

  // Phases typed by the coordinator: the example cases' seizure date is in A, not in B.
  const day = String(SIMPLE.reports[0].seizure_date);
  await page.getByLabel("Phases (one per line: name from to)").fill(`A ${day.slice(0, 8)}01 ${day}\nB 2099-01-01 2099-01-31`);
  await page.getByLabel("Phases (one per line: name from to)").blur();
  await page.getByRole("combobox", { name: "Phase" }).selectOption("B");
  await expect(figure(page, "cases")).toHaveText("0");
  await page.getByRole("combobox", { name: "Phase" }).selectOption("A");
  await expect(figure(page, "cases")).toHaveText("2");
  await expect(page.locator('#an-phase ~ table [data-row="A"] td')).toHaveText("2");
  await expect(page.locator(`#an-transport ~ table [data-row="${String(SIMPLE.reports[0].transport.mode)}"] td`)).toHaveText("2");

  // While the browser is away, a case is posted and its stored envelope tampered with in the
  // database: it is counted nowhere, named in the not-counted line, its content never shown.
  await page.goto("/sessions");
  const bad = await py("sdk_cases.py", "post", ...g, "--data", caseOf("KE", "medicines", 777777));
  await py("sdk_member.py", "tamper", "--database", server.database, "--seq", String(bad.seq));
  await page.reload();
  await page.getByLabel("Username").fill("bruno.analytics");
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByLabel("Authenticator code").fill(totp(totpSeed, 1));
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByRole("link", { name: "Analytics" }).click();
  await page.getByLabel(/^Passphrase( \*)?$/).fill(KEY_PASSPHRASE);
  await page.getByRole("button", { name: "Unlock" }).click();
  await expect(page.getByRole("heading", { name: "Not counted: 1 item(s)" })).toBeVisible();
  await expect(page.locator('[data-what="alert"]')).toContainText("Alert:");
  await expect(figure(page, "cases")).toHaveText("3");
  await expect(figure(page, "pieces.medicines")).toHaveText("5,000");
  await expect(page.getByText("777,777")).toHaveCount(0);

  await page.setViewportSize({ width: 360, height: 740 });
  await expectNoHorizontalScroll(page, "analytics (phone)");
  await expectAccessible(page, "analytics (phone)");
});
