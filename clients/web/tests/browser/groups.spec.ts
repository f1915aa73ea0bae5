/**
 * Groups and devices in the browser, end to end against a real server and the Python SDK:
 * a browser coordinator opens the group's signed log, admits an SDK member by invitation and
 * changes its role (the SDK verifies both from its own pinned root), publishes a signed
 * template version and removes the member; a forged roster change the server slips into its
 * database is refused with the blocking warning; a second browser
 * context links to the first device by its link code, pins the group key by the first
 * device's fingerprint and reads the group.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { checkScreen, expect, logIn, PASSWORD, protectKeys, sdk, test, turnOnTotp } from "./fixtures";
import { REPO_ROOT } from "./server";
import { totp } from "./totp";


test("a browser coordinator admits an SDK member and changes its role, as the SDK verifies; a forged roster change is refused", async ({ page, server }) => {
  test.setTimeout(180_000);
  // The coordinator turns TOTP on (coordinators must have it); then the group is made.
  await server.enrolledUser("cora.coord", PASSWORD);
  await logIn(page, "cora.coord");
  await page.getByRole("link", { name: "Sessions" }).click();
  await page.getByRole("button", { name: "Turn on two-step verification" }).click();
  const seed = (await page.getByTestId("totp-secret").textContent())?.trim() ?? "";
  await page.getByLabel("Code from the app").fill(totp(seed));
  await page.getByRole("button", { name: "Confirm" }).click();
  await expect(page.getByRole("status")).toHaveText("Two-step verification is now on.");
  const created = await server.admin("create-group", "Operation Lighthouse", "--coordinator", "cora.coord");
  const groupId = /group ([0-9a-f-]{36})/.exec(created)![1]!;
  await page.getByRole("link", { name: "Groups" }).click();

  // The group list, then the group: keys protected, the signed log opened on this device.
  const row = page.locator(`tr[data-group="${groupId}"]`);
  await expect(row).toContainText("Planned");
  await expect(row).toContainText("Coordinator");
  await row.getByRole("link", { name: "Operation Lighthouse" }).click();
  await protectKeys(page);
  await page.getByRole("button", { name: "Open the signed log" }).click();
  await page.getByLabel("New status").selectOption("active");
  await page.getByRole("button", { name: "Change the status" }).click();
  await expect(page.getByTestId("group-status")).toContainText("Active");
  const fingerprint = (await page.getByTestId("root-fingerprint").textContent())!.trim();

  // An invitation for the SDK member, answered by the SDK, admitted here.
  await page.getByLabel("For (username, optional)").fill("sam.sdk");
  await page.getByRole("button", { name: "Make an invitation" }).click();
  const invitation = (await page.getByTestId("invitation").textContent())!.trim();
  expect(invitation).toMatch(/^cordon-invite:2:/);
  await expect(page.getByRole("img", { name: "QR code of the invitation" })).toBeVisible();
  const home = mkdtempSync(path.join(tmpdir(), "cordon-sam-"));
  const common = ["--server", server.base, "--home", home];
  const sam = await sdk("enrol", ...common, "--code", await server.createUser("sam.sdk", { displayName: "Sam Sdk" }), "--username", "sam.sdk");
  const samId = String(sam.user_id);
  await sdk("join-request", ...common, "--invitation", invitation);
  await page.getByRole("button", { name: "Check for join requests" }).click();
  await page.getByRole("button", { name: "Admit sam.sdk" }).click();
  const samRow = page.locator(`.roster tr[data-member="${samId}"]`);
  await expect(samRow).toHaveAttribute("data-role", "member");
  await expect(samRow).toContainText("Sam Sdk");
  await expect(samRow).toContainText("Browser Test Customs");
  await expect(samRow).toContainText("Belgium");

  // The SDK certifies its device and sees the same group key and roster.
  expect((await sdk("join", ...common, "--group", groupId)).fingerprint).toBe(fingerprint);
  expect(((await sdk("roster", ...common, "--group", groupId)).members as Record<string, string>)[samId]).toBe("member");

  // A role change, signed here, verified by the SDK from its own pinned root.
  await page.getByRole("link", { name: "All groups" }).click();
  await page.getByRole("link", { name: "Operation Lighthouse" }).click();
  await expect(samRow.locator(".member-devices li")).toHaveCount(1); // the SDK's device, certified
  await samRow.getByLabel("Role of Sam Sdk").selectOption("coordinator");
  await samRow.getByRole("button", { name: "Change the role" }).click();
  await expect(samRow).toHaveAttribute("data-role", "coordinator");
  expect(((await sdk("roster", ...common, "--group", groupId)).members as Record<string, string>)[samId]).toBe("coordinator");

  // A new template version, signed by this device (the server stores only a document whose
  // signature verifies under the publishing device's key).
  const template = JSON.parse(readFileSync(path.join(REPO_ROOT, "clients/python/cordon_client/templates/seizure-case.v1.json"), "utf8")) as Record<string, unknown>;
  await page.getByLabel("Template (JSON)").fill(JSON.stringify({ ...template, version: 2 }));
  await page.getByRole("button", { name: "Sign and publish" }).click();
  await expect(page.getByText("seizure-case version 2 published.")).toBeVisible();
  await expect(page.locator(".manage li", { hasText: "seizure-case v2" })).toBeVisible();
  await page.getByLabel("Template (JSON)").fill("[1, 2]");
  await page.getByRole("button", { name: "Sign and publish" }).click();
  await expect(page.getByRole("alert")).toContainText("This is not a template");
  await page.getByLabel("Template (JSON)").fill("");
  await checkScreen(page, "group");

  // Removal: signed in the log first, then on the server; the verified roster drops the row.
  await samRow.getByRole("button", { name: "Remove Sam Sdk" }).click();
  await expect(samRow).toHaveCount(0);
  await expect(page.locator(".roster tbody tr")).toHaveCount(1);
  await page.getByRole("link", { name: "Devices" }).click();
  await expect(page.getByTestId("device-kind")).toContainText("holds your member key");
  await expect(page.getByTestId("safety-number")).toHaveText(/^(\d{5} ){11}\d{5}$/);
  await checkScreen(page, "devices");

  // The server slips a stranger into the log (correctly chained, signed by no coordinator).
  const forged = await sdk("forge-member", "--database", server.database, "--group", groupId);
  await page.getByRole("link", { name: "Groups" }).click();
  await page.getByRole("link", { name: "Operation Lighthouse" }).click();
  const warning = page.getByTestId("roster-refused");
  await expect(warning).toHaveAttribute("role", "alert");
  await expect(warning).toContainText("Warning: this group's membership list was refused");
  await expect(warning).toContainText(`crypto.injected_member: injected member rejected: seq ${String(forged.forged_seq)} (add_member)`);
  await expect(page.locator(".roster")).toHaveCount(0);
  await expect(page.getByRole("button", { name: "Make an invitation" })).toHaveCount(0);
  await checkScreen(page, "group-refused");
});

test("a second browser links to the first device by its code, pins the group key by the first device's fingerprint and reads the group", async ({ page, browser, server }) => {
  test.setTimeout(180_000);
  const home = mkdtempSync(path.join(tmpdir(), "cordon-coord-"));
  const common = ["--server", server.base, "--home", home];
  await sdk("enrol", ...common, "--code", await server.createUser("cole.coord"), "--username", "cole.coord");
  const created = await server.admin("create-group", "Operation Beacon", "--coordinator", "cole.coord");
  const groupId = /group ([0-9a-f-]{36})/.exec(created)![1]!;
  const opened = await sdk("open", ...common, "--group", groupId);

  // The first device: joins by invitation, is admitted, certifies itself.
  await server.enrolledUser("lina.link", PASSWORD);
  await logIn(page, "lina.link");
  await page.getByRole("link", { name: "Alerts" }).click();
  await protectKeys(page);
  await page.getByLabel("Invitation from your coordinator").fill(String(opened.invitation));
  await page.getByRole("button", { name: "Send the join request" }).click();
  await expect(page.getByLabel("Invitation from your coordinator")).toHaveValue("");
  await sdk("admit", ...common, "--group", groupId);
  await page.getByRole("link", { name: "Groups" }).click();
  await page.getByRole("link", { name: "Operation Beacon" }).click();
  const fingerprint = (await page.getByTestId("root-fingerprint").textContent())!.trim();
  expect(fingerprint).toBe(String(opened.fingerprint));

  // The second device (another browser profile): logs in, protects its keys, shows its code.
  const context = await browser.newContext({ baseURL: server.base });
  const second = await context.newPage();
  await logIn(second, "lina.link");
  await second.getByRole("link", { name: "Devices" }).click();
  await protectKeys(second);
  await expect(second.getByTestId("device-kind")).toContainText("does not hold your member key");
  await expect(second.getByRole("img", { name: "QR code of this device's link code" })).toBeVisible();
  const linkCode = (await second.getByTestId("link-code").textContent())!.trim();
  expect(linkCode).toMatch(/^cordon-link:2:[A-Za-z0-9_-]{43}$/);
  await checkScreen(second, "devices-link-code");
  // Before it pins the group's key it cannot verify the group's items: they wait, and the
  // connection still goes live (it used to drop and reconnect every second).
  await second.getByRole("link", { name: "Alerts" }).click();
  await expect(second.locator("[data-link]")).toHaveCount(0);
  await second.getByRole("link", { name: "Devices" }).click();

  // The first device links it: an add_device signed with the member key, for that key only.
  // First the server lies about the new device's signing key: nothing is signed.
  await page.getByRole("link", { name: "Devices" }).click();
  await page.getByLabel("Link code of the new device").fill(linkCode);
  await page.route("**/api/v1/groups/*/keys", async (route) => {
    const served = (await (await route.fetch()).json()) as { signing_key: string }[];
    await route.fulfill({ json: served.map((d) => ({ ...d, signing_key: Buffer.alloc(32, 7).toString("base64url") })) });
  });
  await page.getByRole("button", { name: "Link the device" }).click();
  await expect(page.locator('[data-outcome="failed"]')).toContainText("Operation Beacon: not linked. The key the server gave for that device is not the one its code names");
  await page.unrouteAll();
  await page.getByRole("button", { name: "Link the device" }).click();
  await expect(page.locator('[data-outcome="linked"]')).toHaveText("Operation Beacon: device linked");
  await checkScreen(page, "devices-linked");

  // The second device pins the group key by the first device's fingerprint: a wrong one is
  // refused and pins nothing; the right one shows the verified roster with both devices.
  await second.getByRole("link", { name: "Groups" }).click();
  await second.getByRole("link", { name: "Operation Beacon" }).click();
  const wrong = fingerprint.replace(/^\d/, (d) => String((Number(d) + 1) % 10));
  await second.getByLabel("Digits or QR code to compare").fill(wrong);
  await second.getByRole("button", { name: "Pin the key" }).click();
  await expect(second.getByRole("alert")).toContainText("does not match what you entered");
  await checkScreen(second, "group-pin");
  await second.getByLabel("Digits or QR code to compare").fill(fingerprint);
  await second.getByRole("button", { name: "Pin the key" }).click();
  await expect(second.getByTestId("root-fingerprint")).toHaveText(fingerprint);
  await expect(second.locator(".roster tr", { hasText: "You" }).locator("td").nth(4)).toHaveText("2");

  // …and reads the group: an alert the coordinator sends now reaches the linked device.
  await sdk("send", ...common, "--group", groupId, "--text", "Reefer MSKU5550001 held at Antwerp");
  await second.getByRole("link", { name: "Alerts" }).click();
  await second.getByRole("button", { name: "Operation Beacon" }).click();
  await expect(second.locator(".feed .item", { hasText: "Reefer MSKU5550001 held at Antwerp" })).toBeVisible();
  await context.close();
});

test("a coordinator on a second browser is told that the group's log is opened from the device holding the coordinator key", async ({ page, browser, server }) => {
  test.setTimeout(120_000);
  await server.enrolledUser("cleo.coord", PASSWORD);
  await logIn(page, "cleo.coord");
  const seed = await turnOnTotp(page);
  await server.admin("create-group", "Operation Jetty", "--coordinator", "cleo.coord");

  // The first browser protects its keys: it holds the coordinator (member) key and may open the log.
  await page.getByRole("link", { name: "Groups" }).click();
  await page.getByRole("link", { name: "Operation Jetty" }).click();
  await protectKeys(page);
  await expect(page.getByRole("button", { name: "Open the signed log" })).toBeVisible();

  // A second browser of the same coordinator holds no coordinator key: it says where to go.
  const other = await (await browser.newContext({ baseURL: server.base })).newPage();
  await logIn(other, "cleo.coord", totp(seed, 1));
  await other.getByRole("link", { name: "Operation Jetty" }).click();
  await protectKeys(other);
  await expect(other.getByText("your coordinator key is on the device where you first protected your keys")).toBeVisible();
  await expect(other.getByRole("button", { name: "Open the signed log" })).toHaveCount(0);
});
