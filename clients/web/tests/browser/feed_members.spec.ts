/**
 * Two browser members of one group (a Python SDK coordinator opens it and admits them), end to
 * end against a real server: an urgent alert live with each side's signed receipts, a reply
 * thread, the unread count cleared when viewed, a typed alert that survives a reload (kept
 * encrypted in IndexedDB), and a server restart with nothing lost or doubled.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Page } from "@playwright/test";
import { expect, KEY_PASSPHRASE, logIn, PASSWORD, sdk, test } from "./fixtures";

/** Log in and go to the alerts screen. */
async function logInToAlerts(page: Page, username: string): Promise<void> {
  await logIn(page, username);
  await page.getByRole("link", { name: "Alerts" }).click();
}

async function setUp(page: Page, username: string, invitation: string): Promise<void> {
  await logInToAlerts(page, username);
  await page.getByLabel("Passphrase", { exact: true }).fill(KEY_PASSPHRASE);
  await page.getByLabel("Passphrase again").fill(KEY_PASSPHRASE);
  await page.getByRole("button", { name: "Protect the keys" }).click();
  await page.getByLabel("Invitation from your coordinator").fill(invitation);
  await page.getByRole("button", { name: "Send the join request" }).click();
  await expect(page.getByLabel("Invitation from your coordinator")).toHaveValue("");
}

async function unlock(page: Page, username: string): Promise<void> {
  await logInToAlerts(page, username);
  await page.getByLabel("Passphrase", { exact: true }).fill(KEY_PASSPHRASE);
  await page.getByRole("button", { name: "Unlock" }).click();
}

/** Open the group (certifying the device the first time) and wait until the roster is shown. */
async function openGroup(page: Page): Promise<void> {
  await page.getByRole("button", { name: /Operation Quay/ }).click();
  await expect(page.getByRole("table", { name: "Members (verified log)" })).toBeVisible();
}

const item = (page: Page, text: string) => page.locator(".feed .item", { hasText: text });

test("two browser members exchange an alert live with receipts, a reply thread, a draft across a reload and a server restart", async ({ page, browser, server }) => {
  test.setTimeout(240_000);
  const home = mkdtempSync(path.join(tmpdir(), "cordon-coord-"));
  const common = ["--server", server.base, "--home", home];
  const coordCode = await server.createUser("quinn.coord", { displayName: "Quinn Coordinator" });
  await sdk("enrol", ...common, "--code", coordCode, "--username", "quinn.coord");
  const groupId = /group ([0-9a-f-]{36})/.exec(await server.admin("create-group", "Operation Quay", "--coordinator", "quinn.coord"))![1]!;
  const first = String((await sdk("open", ...common, "--group", groupId)).invitation);
  const second = String((await sdk("invite", ...common, "--group", groupId)).invitation);

  await server.enrolledUser("alba.member", PASSWORD);
  await server.enrolledUser("bela.member", PASSWORD);
  const other = await browser.newContext({ baseURL: server.base });
  const alba = page;
  const bela = await other.newPage();
  await setUp(alba, "alba.member", first);
  await setUp(bela, "bela.member", second);
  await sdk("admit", ...common, "--group", groupId);
  for (const p of [alba, bela]) {
    await p.getByRole("link", { name: "Sessions" }).click(); // the group list loads anew
    await p.getByRole("link", { name: "Alerts" }).click();
    await openGroup(p);
  }
  // Both devices are certified: each sees the other's device in the verified roster.
  await expect(alba.locator("table.roster tbody tr")).toHaveCount(3);
  await expect(bela.locator("table.roster tbody tr")).toHaveCount(3);

  // Alba → Bela, live and urgent; Alba sees Bela's signed read receipt on her item.
  await alba.getByLabel("Alert", { exact: true }).fill("Reefer MSKU7000001 diverted to Antwerp");
  await alba.getByLabel("Urgent").check();
  await alba.getByRole("button", { name: "Send alert" }).click();
  await expect(item(bela, "Reefer MSKU7000001")).toHaveAttribute("data-urgent", "true");
  const albaItem = item(alba, "Reefer MSKU7000001");
  await expect(albaItem.locator("li[data-receipt]")).toHaveCount(2); // Bela's device and the coordinator's
  await expect(albaItem.locator('li[data-receipt="read"]', { hasText: "bela.member" })).toBeVisible();
  await expect(albaItem.locator('li[data-receipt="pending"]', { hasText: "Quinn Coordinator" })).toBeVisible();

  // Bela replies: the reply threads under the alert on both sides; Bela sees Alba's receipt.
  await bela.getByRole("button", { name: `Reply #${await item(bela, "Reefer MSKU7000001").getAttribute("data-seq")}` }).click();
  await expect(bela.locator("[data-reply-to]")).toBeVisible();
  await bela.getByLabel("Alert", { exact: true }).fill("Confirmed: reefer held at quay 12");
  await bela.getByRole("button", { name: "Send alert" }).click();
  for (const p of [alba, bela]) await expect(p.locator(".feed .replies .item.reply", { hasText: "reefer held at quay 12" })).toBeVisible();
  await expect(item(bela, "reefer held at quay 12").locator('li[data-receipt="read"]', { hasText: "alba.member" })).toBeVisible();

  // A typed alert survives a reload (kept encrypted in IndexedDB, under the keystore's key).
  await bela.getByLabel("Alert", { exact: true }).fill("Draft: trailer 7 seal number differs");
  await expect(bela.locator('[data-draft="saved"]')).toBeVisible();
  await bela.reload();
  await unlock(bela, "bela.member");
  // Sent while Bela had not opened the group: counted unread, cleared once she views it.
  await alba.getByLabel("Alert", { exact: true }).fill("Second reefer MSKU7000002 expected");
  await alba.getByRole("button", { name: "Send alert" }).click();
  await expect(bela.getByRole("button", { name: /Operation Quay/ }).locator("[data-unread]")).toHaveText(/1 unread/);
  await openGroup(bela);
  await expect(bela.getByLabel("Alert", { exact: true })).toHaveValue("Draft: trailer 7 seal number differs");
  await expect(bela.getByRole("button", { name: /Operation Quay/ }).locator("[data-unread]")).toHaveCount(0);
  await expect(item(alba, "MSKU7000002").locator('li[data-receipt="read"]', { hasText: "bela.member" })).toBeVisible();

  // The server restarts: both go offline, come back, and what is sent after arrives once.
  await server.halt();
  for (const p of [alba, bela]) await expect(p.locator('[data-link="offline"]')).toBeVisible();
  await server.resume();
  for (const p of [alba, bela]) await expect(p.locator("[data-link]")).toHaveCount(0, { timeout: 45_000 });
  await bela.getByRole("button", { name: "Send alert" }).click(); // the draft, sent
  await expect(item(alba, "trailer 7 seal number differs")).toBeVisible();
  await expect(bela.getByLabel("Alert", { exact: true })).toHaveValue("");
  for (const p of [alba, bela]) {
    for (const text of ["Reefer MSKU7000001", "reefer held at quay 12", "MSKU7000002", "trailer 7 seal number differs"]) await expect(item(p, text)).toHaveCount(1);
  }
  // Sent, so the draft is gone: a reload shows an empty form.
  await bela.reload();
  await unlock(bela, "bela.member");
  await openGroup(bela);
  await expect(item(bela, "trailer 7 seal number differs")).toHaveCount(1);
  await expect(bela.getByLabel("Alert", { exact: true })).toHaveValue("");
  await other.close();
});
