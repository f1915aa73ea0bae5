/**
 * The malicious server against a browser member's verified log (PROTOCOL §4.6–4.7), end to
 * end against a real server and a Python SDK coordinator: the server hides the newest entry
 * the browser verified (a rollback), then serves a different root-signed entry at that seq
 * (a fork). Each is a blocking, plain-language warning with the exact refusal, in the group
 * screen and in the alert feed; nothing can be sent into a frozen group, and the freeze is
 * lifted only by the head the coordinator confirms, once the server serves a log ending there.
 */
import path from "node:path";
import type { Page } from "@playwright/test";
import { askToJoin, checkScreen, expect, KEY_PASSPHRASE, logIn, PASSWORD, py, sdk, sdkCoordinatorGroup, test } from "./fixtures";

const attack = (step: string, ...args: string[]) => py("sdk_log_attacks.py", step, ...args);

async function openGroupScreen(page: Page, name: string): Promise<void> {
  await page.getByRole("link", { name: "Groups", exact: true }).click();
  await page.getByRole("link", { name }).click();
}

test("a rolled-back and a forked log are refused in the browser with a blocking warning; a frozen group is resolved with the coordinator's head", async ({ page, server }) => {
  test.setTimeout(180_000);
  const { home, common, groupId, opened } = await sdkCoordinatorGroup(server, "tara.coord", "Operation Bulwark");

  // The browser member joins, is admitted and certifies its device: the log's newest entry.
  await server.enrolledUser("rory.member", PASSWORD);
  await askToJoin(page, "rory.member", opened.invitation);
  await sdk("admit", ...common, "--group", groupId);
  await openGroupScreen(page, "Operation Bulwark");
  await expect(page.getByRole("table", { name: /Members/ })).toBeVisible();

  // Rollback: the server hides the entry this browser verified.
  const kept = path.join(home, "hidden-entry.json");
  const hidden = await attack("hide-head", "--database", server.database, "--group", groupId, "--file", kept);
  const head = Number(hidden.hidden_seq);
  await openGroupScreen(page, "Operation Bulwark");
  const refused = page.getByTestId("roster-refused");
  await expect(refused.getByRole("heading")).toHaveText("Warning: the server sent an older membership list");
  await expect(refused).toContainText(`crypto.log_rollback: group ${groupId}: rollback refused: the server's log ends at seq ${head - 1}, but this device already verified seq ${head}`);
  await expect(page.getByRole("table", { name: /Members/ })).toHaveCount(0);
  await page.getByRole("link", { name: "Alerts" }).click();
  await page.getByRole("button", { name: "Operation Bulwark" }).click();
  await expect(refused).toHaveAttribute("data-code", "crypto.log_rollback");
  await expect(page.getByRole("button", { name: "Send alert" })).toHaveCount(0);
  await checkScreen(page, "feed-rollback");

  // The entry back: the group works again.
  await attack("restore", "--database", server.database, "--group", groupId, "--file", kept);
  await openGroupScreen(page, "Operation Bulwark");
  await expect(page.getByRole("table", { name: /Members/ })).toBeVisible();
  const honestHead = (await page.getByTestId("log-head").textContent())!;
  expect(honestHead).toContain(`seq ${head},`);

  // Fork: a root-signed entry where this browser verified another; the group freezes.
  const member = await sdk("whois", ...common, "--group", groupId, "--username", "rory.member");
  const original = path.join(home, "original-entry.json");
  const fork = await attack("fork-head", ...common, "--database", server.database, "--group", groupId, "--member", String(member.user_id), "--file", original);
  await openGroupScreen(page, "Operation Bulwark");
  await expect(refused.getByRole("heading")).toHaveText("Warning: this group is frozen on this device");
  await expect(refused).toContainText(`crypto.fork: group ${groupId}: fork detected at seq ${head}: the server's log holds entry ${String(fork.theirs)} where this device verified ${String(fork.mine)}`);
  await expect(page.getByTestId("verified-head")).toHaveText(`This device last verified the group's log at seq ${head}, epoch ${String(fork.mine)}.`);
  await expect(page.getByRole("link", { name: /Save the fork proof/ })).toHaveAttribute("download", `fork-proof-${groupId}.json`);
  await checkScreen(page, "group-frozen");

  // The feed refuses the frozen group too, and points to the group's page.
  await page.getByRole("link", { name: "Alerts" }).click();
  await page.getByRole("button", { name: "Operation Bulwark" }).click();
  await expect(refused).toHaveAttribute("data-code", "crypto.group_frozen");
  await expect(page.getByRole("button", { name: "Send alert" })).toHaveCount(0);
  await page.getByRole("link", { name: "Open the group's page to compare and resolve" }).click();

  // Confirming the honest head while the server still serves the forked one keeps the freeze.
  await page.getByLabel("Epoch your coordinator confirmed").fill(String(fork.mine));
  await page.getByRole("button", { name: "Check and unfreeze" }).click();
  await expect(page.getByRole("alert").filter({ hasText: "stays frozen" })).toContainText(`the server's log head (seq ${head}, epoch ${String(fork.theirs)}) is not the head your coordinator confirmed: the group stays frozen; compare again`);
  await page.reload(); // the freeze is kept in the keystore, not only on this page
  await logIn(page, "rory.member");
  await page.getByRole("link", { name: "Operation Bulwark" }).click();
  await page.getByLabel("Passphrase", { exact: true }).fill(KEY_PASSPHRASE);
  await page.getByRole("button", { name: "Unlock" }).click();
  await expect(refused.getByRole("heading")).toHaveText("Warning: this group is frozen on this device");

  // The server serves the honest log again; the confirmed head lifts the freeze.
  await attack("unfork", "--database", server.database, "--group", groupId, "--file", original);
  await page.getByLabel("Epoch your coordinator confirmed").fill(String(fork.mine));
  await page.getByRole("button", { name: "Check and unfreeze" }).click();
  await expect(page.getByRole("status").filter({ hasText: "unfrozen" })).toHaveText(`The group is unfrozen: this device now follows its log at seq ${head}.`);
  await expect(page.getByRole("table", { name: /Members/ })).toBeVisible();
  await expect(page.getByTestId("log-head")).toHaveText(honestHead);
  await page.getByRole("link", { name: "Alerts" }).click();
  await page.getByRole("button", { name: "Operation Bulwark" }).click();
  await page.getByLabel("Alert", { exact: true }).fill("Back after the fork");
  await page.getByRole("button", { name: "Send alert" }).click();
  const received = await sdk("receive", ...common, "--group", groupId);
  expect(JSON.stringify(received)).toContain("Back after the fork");
});
