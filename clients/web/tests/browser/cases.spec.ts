/**
 * Seizure cases between a browser member and a Python SDK coordinator, end to end against a
 * real server: the browser fills the template's form (field-level checks as it types) and
 * the SDK reads the case verified; the SDK's case shows in the browser live; amendments both
 * ways and a coordinator review change versions and status on both sides; a case whose stored
 * envelope was tampered with is a blocking warning in the browser, never content. The new
 * screens pass axe and fit a 360 px phone.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Page } from "@playwright/test";
import { expect, expectAccessible, expectNoHorizontalScroll, type Json, KEY_PASSPHRASE, logIn, PASSWORD, py, screenshot, test, turnOnTotp } from "./fixtures";
import { REPO_ROOT } from "./server";
import { totp } from "./totp";

const FULL_EXAMPLE = JSON.parse(readFileSync(path.join(REPO_ROOT, "clients/python/cordon_client/templates/seizure-case.v1.example.json"), "utf8")).full;

/** A form field by its label (a required one's label ends with " *"). */
const field = (page: Page, label: string) => page.getByLabel(new RegExp(`^${label.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}( \\*)?$`));

async function phoneCheck(page: Page, name: string): Promise<void> {
  await page.setViewportSize({ width: 360, height: 740 });
  await expectNoHorizontalScroll(page, `${name} (phone)`);
  await expectAccessible(page, `${name} (phone)`);
  await screenshot(page, `${name}-phone`);
  await page.setViewportSize({ width: 1280, height: 800 });
}

async function desktopCheck(page: Page, name: string): Promise<void> {
  await expectNoHorizontalScroll(page, `${name} (desktop)`);
  await expectAccessible(page, `${name} (desktop)`);
  await screenshot(page, `${name}-desktop`);
}

interface SdkCase {
  seq: number;
  status: string;
  sender: string;
  versions: number[];
  data: Json;
  replies: string[];
  reviews: string[];
}

test("seizure cases both ways between a browser member and a Python SDK coordinator; amendments, reviews both ways, a tampered case refused", async ({ page, server }) => {
  test.setTimeout(600_000); // about 2 min alone; more on a loaded 2-core machine
  const home = mkdtempSync(path.join(tmpdir(), "cordon-cases-"));
  const common = ["--server", server.base, "--home", home];

  // The coordinator (Python SDK), the group, the browser member admitted into it.
  const coordCode = await server.createUser("carla.cases", { displayName: "Carla Coordinator" });
  const coord = await py("sdk_member.py", "enrol", ...common, "--code", coordCode, "--username", "carla.cases");
  const created = await server.admin("create-group", "Operation Pharos", "--coordinator", "carla.cases");
  const groupId = /group ([0-9a-f-]{36})/.exec(created)![1]!;
  const opened = await py("sdk_member.py", "open", ...common, "--group", groupId);
  const g = [...common, "--group", groupId];

  await server.enrolledUser("bruno.cases", PASSWORD);
  await logIn(page, "bruno.cases");
  // A coordinator must have TOTP (the server says so): turned on from the sessions screen.
  const totpSeed = await turnOnTotp(page);
  await page.getByRole("link", { name: "Cases" }).click();
  await expect(page.getByRole("heading", { name: "Seizure cases" })).toBeVisible();
  await field(page, "Passphrase").fill(KEY_PASSPHRASE);
  await page.getByLabel("Passphrase again").fill(KEY_PASSPHRASE);
  await page.getByRole("button", { name: "Protect the keys" }).click();
  await expect(page.getByText("You are in no group yet")).toBeVisible();
  await page.getByRole("link", { name: "Alerts" }).click();
  await page.getByLabel("Invitation from your coordinator").fill(String(opened.invitation));
  await page.getByRole("button", { name: "Send the join request" }).click();
  await expect(page.getByLabel("Invitation from your coordinator")).toHaveValue("");
  // Admitted as a second coordinator (verified roster role), so it reviews cases too.
  await py("sdk_member.py", "admit", ...g, "--role", "coordinator");

  // Browser → SDK: the form, generated from the template, checks fields as they are typed.
  await page.getByRole("link", { name: "Cases" }).click();
  await page.getByRole("button", { name: "New case" }).click();
  await expect(page.getByRole("heading", { name: "New seizure case" })).toBeVisible();
  await desktopCheck(page, "case-form");
  const locode = page.getByLabel("UN/LOCODE");
  await locode.fill("bexyz");
  await locode.blur();
  await expect(page.locator("#f-reports-0-locode-err")).toHaveText("Not in the expected form (see the example).");
  await expect(locode).toHaveAttribute("aria-invalid", "true");
  await locode.fill("BEANR");
  await expect(page.locator("#f-reports-0-locode-err")).toHaveCount(0);
  await page.getByRole("button", { name: "Encrypt and send the case" }).click(); // refused: required fields empty
  await expect(page.getByRole("alert").filter({ hasText: "need attention before the case can be sent" })).toBeVisible();
  await expect(page.locator("#f-reporting_country-err")).toHaveText("Required.");

  await field(page, "Operation").fill("STOP WEB 7");
  await field(page, "Reporting country").selectOption("BE");
  await field(page, "Handling code").selectOption("H2");
  await field(page, "Source reliability").selectOption("B");
  await field(page, "Information accuracy").selectOption("2");
  await field(page, "Seizure date").fill("2026-11-20");
  await field(page, "Place type").selectOption("seaport");
  await field(page, "Direction").selectOption("import");
  await field(page, "Departure country").selectOption("CN");
  await field(page, "Destination country").selectOption("BE");
  await field(page, "Transport mode").selectOption("sea");
  await field(page, "Category").selectOption("medicines");
  await field(page, "HS code").selectOption("3004");
  const quantity = field(page, "Quantity");
  await quantity.fill("abc");
  await quantity.blur();
  await expect(page.locator("#f-reports-0-items-0-quantity-err")).toHaveText("Enter a number.");
  await quantity.fill("1200");
  await field(page, "Unit").selectOption("PCE");
  await page.getByRole("button", { name: "Encrypt and send the case" }).click();
  const mine = page.locator("article.case-detail");
  await expect(mine.getByRole("heading", { name: /Case #\d+/ })).toBeVisible();
  const mySeq = Number(await mine.getAttribute("data-case"));
  await expect(mine).toContainText("STOP WEB 7");
  await expect(mine).toContainText("Belgium (BE)");

  let seen = (await py("sdk_cases.py", "cases", ...g)).cases as SdkCase[];
  const fromBrowser = seen.find((c) => c.seq === mySeq)!;
  expect(fromBrowser).toMatchObject({ status: "unreviewed", versions: [mySeq], data: expect.objectContaining({ operation: "STOP WEB 7", reporting_country: "BE", information_accuracy: 2 }) });
  expect(fromBrowser.data.reports).toEqual([expect.objectContaining({ locode: "BEANR", items: [{ category: "medicines", hs_code: "3004", quantity: 1200, unit: "PCE" }] })]);

  // SDK → browser, live: the coordinator's full-form case appears in the list.
  await page.getByRole("button", { name: "Back to the list" }).click();
  const theirs = await py("sdk_cases.py", "post", ...g, "--form", "full", "--data", JSON.stringify({ ...FULL_EXAMPLE, operation: "HARBOUR FULL 1" }));
  const row = page.locator(`.case-row[data-case="${String(theirs.seq)}"]`);
  await expect(row).toContainText("Belgium");
  await desktopCheck(page, "cases");
  await phoneCheck(page, "cases");
  await row.getByRole("button").click();
  const detail = page.locator(`article.case-detail[data-case="${String(theirs.seq)}"]`);
  await expect(detail).toContainText("HARBOUR FULL 1");
  await expect(detail).toContainText("X-ray / NII (xray_nii)"); // code list label, full form
  await expect(detail.getByTestId("case-version")).toHaveText("Version 1 of 1");

  // The coordinator amends its case: the browser shows version 2, earlier one kept.
  await py("sdk_cases.py", "amend", ...g, "--case", String(theirs.seq), "--form", "full", "--data", JSON.stringify({ ...FULL_EXAMPLE, operation: "HARBOUR FULL 2", handling_code: "H3" }));
  await expect(detail.getByTestId("case-version")).toHaveText("Version 2 of 2");
  await expect(detail).toContainText("HARBOUR FULL 2");
  await detail.getByRole("button", { name: /^Version 1 / }).click();
  await expect(detail).toContainText("HARBOUR FULL 1");
  await desktopCheck(page, "case-detail");
  await phoneCheck(page, "case-detail");

  // The coordinator asks for corrections on the browser's case; the browser replies and amends.
  await py("sdk_cases.py", "review", ...g, "--case", String(mySeq), "--verdict", "corrections_requested", "--text", "Which vessel?");
  await page.getByRole("button", { name: "Back to the list" }).click();
  await expect(page.locator(`.case-row[data-case="${mySeq}"] [data-status]`)).toHaveAttribute("data-status", "corrections_requested");
  await page.locator(`.case-row[data-case="${mySeq}"]`).getByRole("button").click();
  await expect(mine).toContainText(/Review by Carla Coordinator( \([^)]*\))?: Corrections requested — Which vessel\?/);
  await field(page, "Reply").fill("Vessel MSC Aurora, container MSCU7654321");
  await page.getByRole("button", { name: "Send the reply" }).click();
  await expect(mine.locator(".thread")).toContainText("Vessel MSC Aurora");
  // A reply to that reply shows nested under it, as the feed nests its threads.
  await mine.locator(".thread li", { hasText: "Vessel MSC Aurora" }).getByRole("button", { name: "Reply to this" }).click();
  await field(page, "Reply").fill("Seal number 4411");
  await page.getByRole("button", { name: "Send the reply" }).click();
  await expect(mine.locator(".thread li", { hasText: "Vessel MSC Aurora" }).locator("ol.replies li")).toContainText("Seal number 4411");
  await page.getByRole("button", { name: "Amend this case" }).click();
  await expect(page.getByRole("heading", { name: `Amend case #${mySeq}` })).toBeVisible();
  await field(page, "Operation").fill("STOP WEB 8");
  // The amendment being typed is a draft: cancelled and reopened, it is still there.
  await expect(page.getByRole("status").filter({ hasText: "Draft kept on this device, encrypted." })).toBeVisible();
  await page.getByRole("button", { name: "Cancel" }).click();
  await page.getByRole("button", { name: "Amend this case" }).click();
  await expect(field(page, "Operation")).toHaveValue("STOP WEB 8");
  await field(page, "Flight / voyage").fill("MSC Aurora 612E");
  await phoneCheck(page, "case-amend");
  await page.getByRole("button", { name: "Send the new version" }).click();
  await expect(mine.getByTestId("case-version")).toHaveText("Version 2 of 2");
  await expect(mine.locator("[data-status]").first()).toHaveAttribute("data-status", "amended");

  seen = (await py("sdk_cases.py", "cases", ...g)).cases as SdkCase[];
  const amended = seen.find((c) => c.seq === mySeq)!;
  expect(amended.versions).toHaveLength(2);
  expect(amended).toMatchObject({ status: "amended", sender: expect.any(String), replies: ["Vessel MSC Aurora, container MSCU7654321", "Seal number 4411"], reviews: ["corrections_requested"] });
  expect(amended.data).toMatchObject({ operation: "STOP WEB 8" });
  expect(amended.sender).not.toBe(String(coord.user_id));

  // The browser, a coordinator of the verified roster, reviews the SDK's case: verified.
  await page.getByRole("button", { name: "Back to the list" }).click();
  await page.locator(`.case-row[data-case="${String(theirs.seq)}"]`).getByRole("button").click();
  await detail.getByLabel("Verdict").selectOption("verified");
  await detail.getByLabel("Note (optional)").fill("Checked against the AWB");
  await page.getByRole("button", { name: "Record the review" }).click();
  await expect(detail.locator("[data-status]").first()).toHaveAttribute("data-status", "verified");
  seen = (await py("sdk_cases.py", "cases", ...g)).cases as SdkCase[];
  expect(seen.find((c) => c.seq === theirs.seq)).toMatchObject({ status: "verified", reviews: ["verified"], versions: [theirs.seq, expect.any(Number)] });

  // A case being typed is kept, encrypted in the keystore, across a reload.
  await page.getByRole("button", { name: "Back to the list" }).click();
  await page.getByRole("button", { name: "New case" }).click();
  await field(page, "Operation").fill("DRAFT KEPT 1");
  await expect(page.getByRole("status").filter({ hasText: "Draft kept on this device, encrypted." })).toBeVisible();

  // While the browser is away, the coordinator posts a case whose stored envelope is then
  // tampered with in the database: after login and unlock it is a warning, never content.
  await page.goto("/sessions");
  const bad = await py("sdk_cases.py", "post", ...g, "--data", JSON.stringify({ ...FULL_EXAMPLE, operation: "TAMPERED OPERATION" }), "--form", "full");
  await py("sdk_member.py", "tamper", "--database", server.database, "--seq", String(bad.seq));
  await page.reload();
  await logIn(page, "bruno.cases", totp(totpSeed, 1));
  await page.getByRole("link", { name: "Cases" }).click();
  await field(page, "Passphrase").fill(KEY_PASSPHRASE);
  await page.getByRole("button", { name: "Unlock" }).click();
  const warning = page.locator(`.cases .item.refused[data-seq="${String(bad.seq)}"]`);
  await expect(warning.getByRole("alert")).toContainText(`Warning: item ${String(bad.seq)} was refused`);
  await expect(page.getByText("TAMPERED OPERATION")).toHaveCount(0);
  await expect(page.locator(`.case-row[data-case="${String(bad.seq)}"]`)).toHaveCount(0);
  await expect(page.locator(".case-row")).toHaveCount(2); // the archive kept both cases across the reload
  await desktopCheck(page, "cases-refused");
  await page.getByRole("button", { name: "New case" }).click();
  await expect(field(page, "Operation")).toHaveValue("DRAFT KEPT 1");
  await page.getByRole("button", { name: "Cancel" }).click();

  // Arabic: labels and code lists in the officer's language, right to left.
  await page.getByLabel("Language").selectOption("ar");
  await page.locator(`.case-row[data-case="${String(theirs.seq)}"]`).getByRole("button").click();
  await expect(page.locator("html")).toHaveAttribute("dir", "rtl");
  await expect(page.locator(`article.case-detail[data-case="${String(theirs.seq)}"]`)).toContainText("تاريخ الضبط");
  await phoneCheck(page, "case-detail-ar");
  await page.getByLabel("اللغة").selectOption("en");

  // In the alerts feed a case is a link to it, not its JSON.
  await page.getByRole("link", { name: "Alerts" }).click();
  await page.getByRole("button", { name: "Operation Pharos" }).click();
  const inFeed = page.locator(`.feed .item[data-seq="${String(theirs.seq)}"]`);
  await expect(inFeed.getByRole("link", { name: "Seizure case item: open it in Cases" })).toBeVisible();
  await expect(page.locator(".feed").getByText('"seizure_case"')).toHaveCount(0);
  await inFeed.getByRole("link").click();
  await expect(page.locator(`article.case-detail[data-case="${String(theirs.seq)}"]`)).toContainText("HARBOUR FULL 2");
});
