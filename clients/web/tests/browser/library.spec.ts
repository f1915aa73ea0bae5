/**
 * The document library between a browser coordinator and a Python SDK coordinator, end to end
 * against a real server: a document each way (bytes equal, verified on both sides), a browser
 * upload interrupted by a page reload that resumes with only the missing segments, a blob
 * tampered on the server's disk and a manifest re-signed by another key (a forged publisher)
 * refused with the blocking warning, a withdrawal; axe and 360 px on the way.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Page } from "@playwright/test";
import { checkScreen, expect, expectAccessible, expectNoHorizontalScroll, feedFrames, logIn, PASSWORD, screenshot, sdk, test } from "./fixtures";
import { totp } from "./totp";

const KEY_PASSPHRASE = "library keystore passphrase";
const STEP = 30_000;

const sha256 = (data: Buffer) => createHash("sha256").update(data).digest("hex");

/** A TOTP code for a step after `used` (the server refuses a step twice), within its ±1 window. */
function nextCode(seed: string, used: number): [string, number] {
  const now = Math.floor(Date.now() / STEP);
  const step = Math.max(used + 1, now - 1);
  if (step > now + 1) throw new Error("no fresh TOTP step left in this window");
  return [totp(seed, step - now), step];
}

const documentRow = (page: Page, name: string) => page.locator(".document", { has: page.getByTestId("document-name").filter({ hasText: name }) });

test("a browser coordinator and a Python SDK coordinator exchange library documents both ways; an upload resumes after a reload; a tampered blob and a forged manifest are refused", async ({ page, server }) => {
  test.setTimeout(240_000);
  const home = mkdtempSync(path.join(tmpdir(), "cordon-lib-coord-"));
  const files = mkdtempSync(path.join(tmpdir(), "cordon-lib-files-"));
  const common = ["--server", server.base, "--home", home];

  // The SDK coordinator opens the group and invites the browser user.
  const coordCode = await server.createUser("lib.coord", { displayName: "Cora Coordinator" });
  await sdk("enrol", ...common, "--code", coordCode, "--username", "lib.coord");
  const created = await server.admin("create-group", "Operation Shelf", "--coordinator", "lib.coord");
  const groupId = /group ([0-9a-f-]{36})/.exec(created)![1]!;
  const invitation = String((await sdk("open", ...common, "--group", groupId)).invitation);

  const frames = await feedFrames(page);
  // The browser user turns TOTP on (a coordinator must have it), protects its keys, joins,
  // and is admitted as a second coordinator (in the signed log and on the server).
  await server.enrolledUser("lina.library", PASSWORD);
  await logIn(page, "lina.library", null);
  await page.getByRole("link", { name: "Sessions" }).click();
  await page.getByRole("button", { name: "Turn on two-step verification" }).click();
  const seed = (await page.getByTestId("totp-secret").textContent())?.trim() ?? "";
  let [code, used] = nextCode(seed, 0);
  await page.getByLabel("Code from the app").fill(code);
  await page.getByRole("button", { name: "Confirm" }).click();
  await expect(page.getByRole("status")).toHaveText("Two-step verification is now on.");
  await page.getByRole("link", { name: "Library" }).click();
  await page.getByLabel("Passphrase", { exact: true }).fill(KEY_PASSPHRASE);
  await page.getByLabel("Passphrase again").fill(KEY_PASSPHRASE);
  await page.getByRole("button", { name: "Protect the keys" }).click();
  await page.getByRole("link", { name: "Alerts" }).click();
  await page.getByLabel("Invitation from your coordinator").fill(invitation);
  await page.getByRole("button", { name: "Send the join request" }).click();
  await expect(page.getByLabel("Invitation from your coordinator")).toHaveValue("");
  expect(JSON.stringify(await sdk("admit", ...common, "--group", groupId, "--role", "coordinator"))).toContain("added");
  await page.getByRole("link", { name: "Library" }).click();
  await page.getByRole("button", { name: "Operation Shelf" }).click();
  await expect(page.getByRole("heading", { name: "Publish a document" })).toBeVisible();

  // SDK → browser: the document is listed before its key arrives on the live feed (held back
  // here), and is opened once the key comes; the bytes saved are the bytes published.
  const report = randomBytes(300_000);
  const reportPath = path.join(files, "weekly-analysis.pdf");
  writeFileSync(reportPath, report);
  frames.hold();
  const fromSdk = await sdk("publish", ...common, "--group", groupId, "--file", reportPath, "--category", "analysis_report");
  await page.getByRole("button", { name: "Refresh" }).click();
  const waiting = page.locator(`.document[data-document="${String(fromSdk.document_id)}"]`);
  await expect(waiting.getByText("Its key has not reached this device yet.")).toBeVisible();
  frames.release();
  const sdkRow = documentRow(page, "weekly-analysis.pdf");
  await expect(sdkRow).toHaveAttribute("data-document", String(fromSdk.document_id));
  await sdkRow.getByRole("button", { name: "Download and verify" }).click();
  await expect(sdkRow.getByText("Verified: signed by a coordinator of this group")).toBeVisible();
  const saving = page.waitForEvent("download");
  await sdkRow.getByRole("link", { name: "Save weekly-analysis.pdf" }).click();
  const saved = await saving;
  expect(saved.suggestedFilename()).toBe("weekly-analysis.pdf");
  expect(sha256(readFileSync(await saved.path()))).toBe(sha256(report));
  await checkScreen(page, "library");

  // Browser → SDK, interrupted by a reload after the first of three segments.
  const newsletter = randomBytes(2 * 1024 * 1024 + 500_000);
  const newsletterPath = path.join(files, "newsletter-march.bin");
  writeFileSync(newsletterPath, newsletter);
  const puts: number[] = [];
  let held!: () => void;
  const secondHeld = new Promise<void>((resolve) => (held = resolve));
  await page.route("**/api/v1/library/segments/**", async (route) => {
    const index = Number(new URL(route.request().url()).pathname.split("/").at(-1));
    if (index === 0) return route.continue();
    held(); // never answered: the reload cuts it off
  });
  await page.getByLabel("File", { exact: true }).setInputFiles(newsletterPath);
  await page.getByLabel("Category").last().selectOption("newsletter");
  await page.getByRole("button", { name: "Encrypt and publish" }).click();
  await secondHeld;
  await expect(page.getByTestId("progress-text")).toContainText("1 MB of 2.5 MB");
  page.on("request", (r) => {
    if (r.method() === "PUT" && r.url().includes("/library/segments/")) puts.push(Number(new URL(r.url()).pathname.split("/").at(-1)));
  });
  await page.reload(); // the held request dies with the page
  await page.unrouteAll({ behavior: "ignoreErrors" });
  [code, used] = nextCode(seed, used);
  await logIn(page, "lina.library", code);
  await page.getByRole("link", { name: "Library" }).click();
  await page.getByLabel("Passphrase", { exact: true }).fill(KEY_PASSPHRASE);
  await page.getByRole("button", { name: "Unlock" }).click();
  await page.getByRole("button", { name: "Operation Shelf" }).click();
  await expect(page.getByTestId("pending-upload")).toContainText("newsletter-march.bin (2.5 MB): 1 of 3 parts on the server");
  await checkScreen(page, "library-resume");
  await page.getByLabel("File", { exact: true }).setInputFiles(newsletterPath);
  await page.getByRole("button", { name: "Encrypt and publish" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Published." })).toBeVisible({ timeout: 30_000 });
  expect(puts).toEqual([1, 2]); // only the segments the server lacked
  await expect(page.getByTestId("pending-upload")).toHaveCount(0);
  const browserRow = documentRow(page, "newsletter-march.bin");
  const browserDoc = await browserRow.getAttribute("data-document");
  const got = await sdk("download", ...common, "--group", groupId, "--document", browserDoc!, "--dest", files);
  expect(got).toEqual({ name: "newsletter-march.bin", media_type: "application/octet-stream", sha256: sha256(newsletter) });

  // A second version of the browser's document: both listed, the SDK reads the new one.
  const browserRowById = page.locator(`.document[data-document="${browserDoc}"]`);
  const update = randomBytes(120_000);
  const updatePath = path.join(files, "newsletter-march-corrected.bin");
  writeFileSync(updatePath, update);
  await browserRowById.getByRole("button", { name: "New version" }).click();
  await browserRowById.getByLabel("File", { exact: true }).setInputFiles(updatePath);
  await browserRowById.getByRole("button", { name: "Encrypt and publish" }).click();
  await expect(browserRowById.getByTestId("document-name")).toHaveText("newsletter-march-corrected.bin");
  await browserRowById.getByRole("button", { name: "Versions" }).click();
  await expect(browserRowById.getByTestId("document-name")).toHaveText(["newsletter-march-corrected.bin", "newsletter-march.bin"]);
  const second = await sdk("download", ...common, "--group", groupId, "--document", browserDoc!, "--version", "2", "--dest", files);
  expect(second).toEqual({ name: "newsletter-march-corrected.bin", media_type: "application/octet-stream", sha256: sha256(update) });

  // A blob altered on the server's disk: the browser refuses it, says so, offers nothing.
  await sdk("tamper-blob", "--database", server.database, "--blob-dir", server.blobDir, "--document", String(fromSdk.document_id));
  const sdkRowById = page.locator(`.document[data-document="${String(fromSdk.document_id)}"]`);
  await sdkRowById.getByRole("button", { name: "Download and verify" }).click();
  await expect(sdkRowById.getByRole("alert")).toContainText("Warning: this document was refused");
  await expect(sdkRowById.getByRole("alert")).toContainText("crypto.decryption: document segment 0 failed authentication");
  await expect(sdkRowById.getByRole("link", { name: /^Save/ })).toHaveCount(0);
  await expect(sdkRowById.getByTestId("document-name")).toHaveCount(0); // not shown as content
  await checkScreen(page, "library-refused");
  // In Arabic, right to left, the warning stays a warning.
  await page.getByLabel("Language").selectOption("ar");
  await expect(page.locator("html")).toHaveAttribute("dir", "rtl");
  await expect(sdkRowById.getByRole("alert")).toContainText("تحذير: رُفضت هذه الوثيقة");
  await page.setViewportSize({ width: 360, height: 740 });
  await expectNoHorizontalScroll(page, "library (ar, phone)");
  await expectAccessible(page, "library (ar, phone)");
  await screenshot(page, "library-ar-phone");
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.getByLabel("اللغة").selectOption("en");

  // Version 2's manifest re-signed with another key (a forged publisher): refused when the
  // list is read, before any download; its name is never shown. Version 1 is untouched.
  await sdk("forge-manifest", "--database", server.database, "--document", browserDoc!, "--version", "2");
  await page.getByRole("button", { name: "Refresh" }).click();
  const forged = browserRowById.locator('[data-version="2"]');
  await expect(forged.getByRole("alert")).toContainText("crypto.signature");
  await expect(forged.getByTestId("document-name")).toHaveCount(0);
  await expect(forged.getByRole("button", { name: "Download and verify" })).toHaveCount(0);
  await expect(browserRowById.locator('[data-version="1"]').getByTestId("document-name")).toHaveText("newsletter-march.bin");

  // Withdrawn by a coordinator: still listed, flagged, no longer downloadable.
  await browserRowById.getByRole("button", { name: "Withdraw" }).click();
  await browserRowById.getByRole("button", { name: "Yes, withdraw it" }).click();
  await expect(browserRowById).toContainText("Withdrawn: it can no longer be downloaded.");
});
