/**
 * A browser member and a Python SDK coordinator in one group, end to end against a real
 * server: invitation, admission, certification, alerts both ways live, a tampered stored
 * envelope refused with a warning, reload with the passphrase and resume without doubles.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Page } from "@playwright/test";
import { expect, expectAccessible, KEY_PASSPHRASE, logIn, PASSWORD, screenshot, sdk, test } from "./fixtures";


const item = (page: Page, text: string) => page.locator(".feed .item", { hasText: text });

test("a browser member joins by invitation and exchanges alerts live with a Python SDK coordinator; a tampered item is refused", async ({ page, server }) => {
  test.setTimeout(180_000);
  const home = mkdtempSync(path.join(tmpdir(), "cordon-coord-"));
  const common = ["--server", server.base, "--home", home];

  // The coordinator (Python SDK) and the group, as an operator and a coordinator make them.
  const coordCode = await server.createUser("carla.coord", { displayName: "Carla Coordinator" });
  const coord = await sdk("enrol", ...common, "--code", coordCode, "--username", "carla.coord");
  const created = await server.admin("create-group", "Operation Harbour", "--coordinator", "carla.coord");
  const groupId = /group ([0-9a-f-]{36})/.exec(created)![1]!;
  const opened = await sdk("open", ...common, "--group", groupId);
  const invitation = String(opened.invitation);
  expect(invitation).toMatch(/^cordon-invite:2:/);

  // The browser member: login registers the device; the passphrase protects its keystore.
  await server.enrolledUser("bruno.member", PASSWORD);
  await logIn(page, "bruno.member");
  await page.getByRole("link", { name: "Alerts" }).click();
  await page.getByLabel("Passphrase", { exact: true }).fill(KEY_PASSPHRASE);
  await page.getByLabel("Passphrase again").fill(KEY_PASSPHRASE);
  await page.getByRole("button", { name: "Protect the keys" }).click();
  await expect(page.getByRole("heading", { name: "Join a group" })).toBeVisible();

  // Join with the invitation; the coordinator admits; the browser certifies its device.
  await page.getByLabel("Invitation from your coordinator").fill(invitation);
  await page.getByRole("button", { name: "Send the join request" }).click();
  await expect(page.getByLabel("Invitation from your coordinator")).toHaveValue("");
  const admitted = await sdk("admit", ...common, "--group", groupId);
  expect(JSON.stringify(admitted)).toContain("added");
  await page.getByRole("link", { name: "Sessions" }).click(); // the group list loads anew
  await page.getByRole("link", { name: "Alerts" }).click();
  await page.getByRole("button", { name: "Operation Harbour" }).click();
  await expect(page.getByTestId("fingerprint")).toHaveText(String(opened.fingerprint));
  const roster = page.getByRole("table", { name: "Members (verified log)" });
  await expect(roster.locator(`tr[data-member="${String(coord.user_id)}"]`)).toContainText("coordinator");
  // Named from GET /groups/{id}/members; the row itself comes from the verified log.
  await expect(roster.locator(`tr[data-member="${String(coord.user_id)}"]`)).toContainText("Carla Coordinator");
  await expect(roster.getByText("You", { exact: true })).toBeVisible();
  await expect(page.locator("[data-link]")).toHaveCount(0); // live: no banner

  // Python → browser, live, urgent.
  const first = await sdk("send", ...common, "--group", groupId, "--text", "Container MSCU1234567 flagged", "--urgent");
  await expect(item(page, "Container MSCU1234567 flagged")).toHaveAttribute("data-urgent", "true");
  await expect(item(page, "Container MSCU1234567 flagged")).toHaveAttribute("data-seq", String(first.seq));
  // Delivered and read receipts, signed by the browser's device, reach the sender.
  await expect
    .poll(async () => {
      const rows = (await sdk("receipts", ...common, "--group", groupId, "--seq", String(first.seq))).receipts as { read_at: string | null }[];
      return rows.length === 1 && rows[0]!.read_at !== null;
    })
    .toBe(true);

  // Browser → Python.
  await page.getByLabel("Alert", { exact: true }).fill("Truck AB-123-CD stopped at Zeebrugge");
  await page.getByRole("button", { name: "Send alert" }).click();
  await expect(item(page, "Truck AB-123-CD stopped at Zeebrugge")).toBeVisible();
  const got = (await sdk("receive", ...common)).items as { text: string | null; verified: boolean; urgent: boolean }[];
  expect(got).toContainEqual(expect.objectContaining({ text: "Truck AB-123-CD stopped at Zeebrugge", verified: true, urgent: false }));

  // While the browser is away: one good alert, one whose stored envelope is tampered.
  await page.goto("/sessions");
  const good = await sdk("send", ...common, "--group", groupId, "--text", "Vessel Nordic Star inspected");
  const bad = await sdk("send", ...common, "--group", groupId, "--text", "Release container MSCU7654321");
  await sdk("tamper", "--database", server.database, "--seq", String(bad.seq));
  // A Python reply threads under its alert; one whose stored parent_seq the server moved to
  // another item no longer matches its signed reply target and is refused.
  await sdk("send", ...common, "--group", groupId, "--text", "Crew of Nordic Star questioned", "--parent", String(good.seq));
  const forged = await sdk("send", ...common, "--group", groupId, "--text", "Hold everything from MSCU1234567", "--parent", String(first.seq));
  await sdk("reparent", "--database", server.database, "--seq", String(forged.seq), "--parent", String(good.seq));

  // A reload: the token was in memory only, so log in again, then unlock with the passphrase
  // and resume from the cursor kept in the keystore.
  await page.reload();
  await logIn(page, "bruno.member");
  await page.getByRole("link", { name: "Alerts" }).click();
  await page.getByLabel("Passphrase", { exact: true }).fill(KEY_PASSPHRASE);
  await page.getByRole("button", { name: "Unlock" }).click();
  await page.getByRole("button", { name: "Operation Harbour" }).click();
  await expect(item(page, "Vessel Nordic Star inspected")).toHaveAttribute("data-seq", String(good.seq));
  const warning = page.locator(`.feed .item.refused[data-seq="${String(bad.seq)}"]`);
  await expect(warning.getByRole("alert")).toContainText(`Warning: item ${String(bad.seq)} was refused`);
  await expect(page.getByText("Release container MSCU7654321")).toHaveCount(0);
  await expect(page.locator(".feed .replies .item.reply", { hasText: "Crew of Nordic Star questioned" })).toBeVisible();
  await expect(page.locator(`.feed .item.refused[data-seq="${String(forged.seq)}"]`).getByRole("alert")).toContainText("parent_seq");
  await expect(page.getByText("Hold everything from MSCU1234567")).toHaveCount(0);
  await expectAccessible(page, "group feed");
  await screenshot(page, "feed-desktop");
  // Nothing doubled: each earlier alert is shown once after the reload.
  await expect(item(page, "Container MSCU1234567 flagged")).toHaveCount(1);
  await expect(item(page, "Truck AB-123-CD stopped at Zeebrugge")).toHaveCount(1);
  await expect(item(page, "Vessel Nordic Star inspected")).toHaveCount(1);

  // The server restarts: the page says it is offline, reconnects with backoff, and what was
  // sent meanwhile arrives once.
  await expect(page.locator("[data-link]")).toHaveCount(0);
  await server.halt();
  await expect(page.locator('[data-link="offline"]')).toBeVisible();
  await server.resume();
  const during = await sdk("send", ...common, "--group", groupId, "--text", "Seal broken on trailer 42", "--urgent");
  await expect(item(page, "Seal broken on trailer 42")).toHaveAttribute("data-seq", String(during.seq), { timeout: 45_000 });
  await expect(page.locator("[data-link]")).toHaveCount(0);
  for (const text of ["Container MSCU1234567 flagged", "Truck AB-123-CD stopped at Zeebrugge", "Vessel Nordic Star inspected", "Seal broken on trailer 42"]) {
    await expect(item(page, text)).toHaveCount(1);
  }
  await expect(page.locator(".feed .item.refused")).toHaveCount(2);
});
