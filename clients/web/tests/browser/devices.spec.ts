/**
 * Device revocation end to end, against a real server and the Python SDK (PROTOCOL §4.2,
 * §10): a browser member revokes a second device (one the SDK registered and the browser
 * linked) with a signed `revoke_device` in the group's log and on the server; the SDK
 * coordinator verifies the entry from its own root, leaves the device out of its next send
 * and rotates its chain, and the revoked device's token is refused. A browser coordinator
 * revokes an SDK member's device from the roster; the SDK then cannot send from it. Without an
 * invitation, a browser coordinator adds an SDK member by the safety number she reads out
 * (§3.6): a misheard digit and a key the server swapped are both refused, nothing signed.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { askToJoin, checkScreen, expect, KEY_PASSPHRASE, logIn, PASSWORD, protectKeys, sdk, sdkCoordinatorGroup, test, turnOnTotp } from "./fixtures";

interface Stored {
  seq: number;
  kind: string;
  sender: string | null;
  recipients: string[] | null;
}

const stored = async (database: string, groupId: string, after: number) => (await sdk("recipients", "--database", database, "--group", groupId, "--seq", String(after))).items as Stored[];

test("a member revokes a lost device from the devices screen: signed out of the log and the server, left out of the next send", async ({ page, server }) => {
  test.setTimeout(240_000);
  const { common, coord, groupId, opened } = await sdkCoordinatorGroup(server, "rhea.coord", "Operation Keel");

  // The browser member joins by invitation and certifies this device.
  await server.enrolledUser("vera.revoke", PASSWORD);
  await askToJoin(page, "vera.revoke", opened.invitation);
  await sdk("admit", ...common, "--group", groupId);
  await page.getByRole("link", { name: "Groups" }).click();
  await page.getByRole("link", { name: "Operation Keel" }).click();
  await expect(page.getByTestId("root-fingerprint")).toHaveText(String(opened.fingerprint));

  // A second device of hers: the SDK logs in as her (its own keys); the browser links it.
  const phoneHome = mkdtempSync(path.join(tmpdir(), "cordon-phone-"));
  const phone = await sdk("login-device", "--server", server.base, "--home", phoneHome, "--username", "vera.revoke", "--password", PASSWORD);
  const phoneId = String(phone.device_id);
  await page.getByRole("link", { name: "Devices" }).click();
  await page.getByLabel("Link code of the new device").fill(String(phone.link_code));
  await page.getByRole("button", { name: "Link the device" }).click();
  await expect(page.locator('[data-outcome="linked"]')).toHaveText("Operation Keel: device linked");
  const rosterBefore = await sdk("roster", ...common, "--group", groupId);
  const veraId = Object.keys(rosterBefore.members as Record<string, string>).find((id) => id !== String(coord.user_id))!;
  const veraDevices = (rosterBefore.devices as Record<string, string[]>)[veraId]!;
  expect(veraDevices).toContain(phoneId);
  expect(veraDevices).toHaveLength(2);
  const browserId = veraDevices.find((d) => d !== phoneId)!;

  // Before: the coordinator's chain goes to both of her devices.
  const first = await sdk("send", ...common, "--group", groupId, "--text", "Barge ELBE-7 boarded");
  const before = (await stored(server.database, groupId, 0)).filter((i) => i.kind === "sender_key" && i.seq < Number(first.seq));
  expect(before.flatMap((i) => i.recipients ?? [])).toEqual(expect.arrayContaining([browserId, phoneId]));

  // The devices screen lists both; revoking asks first, in plain words; "Keep it" does nothing.
  await page.reload();
  await logIn(page, "vera.revoke");
  await page.getByRole("link", { name: "Devices" }).click();
  await page.getByLabel("Passphrase", { exact: true }).fill(KEY_PASSPHRASE);
  await page.getByRole("button", { name: "Unlock" }).click();
  const row = page.locator(`.my-devices li[data-device="${phoneId}"]`);
  await expect(row).toContainText("cordon-python phone");
  await expect(page.locator(`.my-devices li[data-device="${browserId}"]`)).toContainText("This device");
  await expect(page.locator(`.my-devices li[data-device="${browserId}"]`).getByRole("button")).toHaveCount(0);
  await row.getByRole("button", { name: /^Revoke cordon-python phone, added / }).click();
  const dialog = page.getByRole("alertdialog", { name: "Revoke cordon-python phone?" });
  await expect(dialog).toContainText("It will be signed out at once and taken out of the signed log of each of your groups");
  await expect(dialog).toBeFocused();
  await checkScreen(page, "devices-revoke-confirm");
  await page.keyboard.press("Escape"); // keeps it, and focus goes back to the button
  await expect(dialog).toHaveCount(0);
  await expect(row.getByRole("button", { name: /^Revoke cordon-python phone/ })).toBeFocused();
  await row.getByRole("button", { name: /^Revoke cordon-python phone/ }).click();
  await page.getByRole("alertdialog").getByRole("button", { name: "Keep it" }).click();
  await expect(dialog).toHaveCount(0);
  await expect(row).toHaveAttribute("data-revoked", "false");
  await row.getByRole("button", { name: /^Revoke cordon-python phone/ }).click();
  await page.getByRole("alertdialog").getByRole("button", { name: "Revoke the device" }).click();
  await expect(page.locator('[data-outcome="revoked"]')).toHaveText("Operation Keel: device revoked in the signed log");
  await expect(page.getByRole("status")).toContainText("The device is revoked");
  await expect(row).toHaveAttribute("data-revoked", "true");
  await expect(row).toContainText("Revoked");
  await checkScreen(page, "devices-revoked");

  // The SDK coordinator verifies the revocation from its own pinned root…
  const rosterAfter = await sdk("roster", ...common, "--group", groupId);
  expect((rosterAfter.devices as Record<string, string[]>)[veraId]).toEqual([browserId]);
  expect(Number(rosterAfter.head_seq)).toBe(Number(rosterBefore.head_seq) + 1);

  // …and its next send leaves the device out: a new chain (rotated after the revocation)
  // goes to her browser only, and the alert reaches the browser.
  const second = await sdk("send", ...common, "--group", groupId, "--text", "Barge ELBE-7 released");
  const after = (await stored(server.database, groupId, Number(first.seq))).filter((i) => i.seq < Number(second.seq));
  const chains = after.filter((i) => i.kind === "sender_key");
  expect(chains.length).toBeGreaterThanOrEqual(1);
  for (const c of chains) expect(c.recipients).not.toContain(phoneId);
  expect(chains.flatMap((c) => c.recipients ?? [])).toContain(browserId);
  await page.getByRole("link", { name: "Alerts" }).click();
  await page.getByRole("button", { name: "Operation Keel" }).click();
  await expect(page.locator(".feed .item", { hasText: "Barge ELBE-7 released" })).toBeVisible();

  // The revoked device is refused by the server: its token no longer works.
  const refused = await sdk("try-receive", "--server", server.base, "--home", phoneHome);
  expect(refused.status).toBe(401);
});

test("a browser coordinator revokes an SDK member's device from the roster (the SDK verifies it and cannot send from it), then adds a member by safety number", async ({ page, server }) => {
  test.setTimeout(240_000);
  await server.enrolledUser("tilda.revoker", PASSWORD);
  await logIn(page, "tilda.revoker");
  await turnOnTotp(page);
  const created = await server.admin("create-group", "Operation Rudder", "--coordinator", "tilda.revoker");
  const groupId = /group ([0-9a-f-]{36})/.exec(created)![1]!;
  await page.getByRole("link", { name: "Groups" }).click();
  await page.getByRole("link", { name: "Operation Rudder" }).click();
  await protectKeys(page);
  await page.getByRole("button", { name: "Open the signed log" }).click();
  await page.getByLabel("New status").selectOption("active");
  await page.getByRole("button", { name: "Change the status" }).click();
  await expect(page.getByTestId("group-status")).toContainText("Active");
  await page.getByLabel("For (username, optional)").fill("sid.sdk");
  await page.getByRole("button", { name: "Make an invitation" }).click();
  const invitation = (await page.getByTestId("invitation").textContent())!.trim();

  const home = mkdtempSync(path.join(tmpdir(), "cordon-sid-"));
  const common = ["--server", server.base, "--home", home];
  const sid = await sdk("enrol", ...common, "--code", await server.createUser("sid.sdk", { displayName: "Sid Sdk" }), "--username", "sid.sdk");
  const sidId = String(sid.user_id);
  await sdk("join-request", ...common, "--invitation", invitation);
  await page.getByRole("button", { name: "Check for join requests" }).click();
  await page.getByRole("button", { name: "Admit sid.sdk" }).click();
  await sdk("join", ...common, "--group", groupId);
  const sidDevice = ((await sdk("roster", ...common, "--group", groupId)).devices as Record<string, string[]>)[sidId]![0]!;

  // The browser's chain goes to Sid's device with its first alert.
  await page.getByRole("link", { name: "Alerts" }).click();
  await page.getByRole("button", { name: "Operation Rudder" }).click();
  await page.getByLabel("Alert", { exact: true }).fill("Rudder check 1");
  await page.getByRole("button", { name: "Send alert" }).click();
  await expect(page.locator(".feed .item", { hasText: "Rudder check 1" })).toBeVisible();
  const before = await stored(server.database, groupId, 0);
  expect(before.filter((i) => i.kind === "sender_key").flatMap((i) => i.recipients ?? [])).toContain(sidDevice);
  const lastBefore = Math.max(...before.map((i) => i.seq));

  // The roster lists Sid's device; the coordinator revokes it after a plain-language check.
  await page.getByRole("link", { name: "Groups" }).click();
  await page.getByRole("link", { name: "Operation Rudder" }).click();
  const sidRow = page.locator(`.roster tr[data-member="${sidId}"]`);
  const short = sidDevice.slice(0, 8);
  await expect(sidRow.locator(`.member-devices li[data-device="${sidDevice}"]`)).toContainText(short);
  await sidRow.getByRole("button", { name: `Revoke device ${short} of Sid Sdk` }).click();
  const dialog = page.getByRole("alertdialog", { name: `Revoke device ${short} of Sid Sdk?` });
  await expect(dialog).toContainText("It is taken out of this group's signed log");
  await checkScreen(page, "group-revoke-device");
  await dialog.getByRole("button", { name: "Revoke the device" }).click();
  await expect(sidRow.locator(".member-devices li")).toHaveCount(0);
  await expect(sidRow.locator("td").nth(4)).toHaveText("0");

  // The SDK verifies the signed revocation from its own pinned root, and its client no longer
  // holds a session for the revoked device: nothing can be sent from it (§10).
  expect(((await sdk("roster", ...common, "--group", groupId)).devices as Record<string, string[]>)[sidId]).toEqual([]);
  const refused = await sdk("try-send", ...common, "--group", groupId, "--text", "From a revoked device");
  expect(refused).toEqual({ error: "KeyUnavailableError", message: "this device is not in the verified roster" });

  // A revoked device that ignores its revocation (its client handed the roster from before
  // it) still holds a server token: what it sends is refused by the receiver, never shown.
  // (This runs while the coordinator is on the group screen: the live feed that receives the
  // item must already hold the roster the group screen verified after the revocation.)
  const forged = await sdk("send-as-revoked", ...common, "--group", groupId, "--text", "Release all containers now");
  expect(forged).toHaveProperty("seq"); // the server stores it: it does not read the log
  await page.getByRole("link", { name: "Alerts" }).click();
  await page.getByRole("button", { name: "Operation Rudder" }).click();
  const warning = page.locator(`.feed .item.refused[data-seq="${String(forged.seq)}"]`).getByRole("alert");
  await expect(warning).toContainText(`Warning: item ${String(forged.seq)} was refused`);
  // It names the roster head from before the revocation (seq 5: genesis, two add_member and
  // two add_device entries came first), so the epoch rule of §6/§10 refuses it.
  await expect(warning).toContainText("crypto.stale_epoch: envelope names roster head seq 4, before the removal at seq 5");
  await expect(page.getByText("Release all containers now")).toHaveCount(0);

  // The browser's next send leaves the revoked device out (a new chain, given to nobody).
  await page.getByRole("link", { name: "Alerts" }).click();
  await page.getByRole("button", { name: "Operation Rudder" }).click();
  await page.getByLabel("Alert", { exact: true }).fill("Rudder check 2");
  await page.getByRole("button", { name: "Send alert" }).click();
  await expect(page.locator(".feed .item", { hasText: "Rudder check 2" })).toBeVisible();
  const after = await stored(server.database, groupId, lastBefore);
  expect(after.some((i) => i.kind === "alert")).toBe(true);
  for (const i of after) expect(i.recipients ?? []).not.toContain(sidDevice);

  // Without an invitation: Una reads out her safety number and the coordinator adds her by it.
  const unaHome = mkdtempSync(path.join(tmpdir(), "cordon-una-"));
  const una = ["--server", server.base, "--home", unaHome];
  const unaUser = await sdk("enrol", ...una, "--code", await server.createUser("una.sdk", { displayName: "Una Sdk" }), "--username", "una.sdk");
  const unaId = String(unaUser.user_id);
  const { number } = (await sdk("safety", ...una)) as { number: string };
  await page.getByRole("link", { name: "Groups" }).click();
  await page.getByRole("link", { name: "Operation Rudder" }).click();
  const fingerprint = (await page.getByTestId("root-fingerprint").textContent())!.trim();
  const form = page.locator("form", { has: page.getByRole("heading", { name: "Add a member by safety number" }) });
  const mismatch = "Warning: the key the server gave for una.sdk does NOT match the safety number you entered. Nothing was signed.";
  // A digit misheard: refused, nothing signed.
  const misheard = number.replace(/^\d/, (d) => String((Number(d) + 1) % 10));
  await form.getByLabel("Username or user id").fill("una.sdk");
  await form.getByLabel("Their safety number or QR code").fill(misheard);
  await form.getByRole("button", { name: "Check and add" }).click();
  await expect(form.getByRole("alert")).toContainText(mismatch);
  await expect(page.locator(`.roster tr[data-member="${unaId}"]`)).toHaveCount(0);
  // The server swaps Una's key in its directory: the right number does not match that key.
  await page.route("**/api/v1/groups/*/member-keys", async (route) => {
    const served = (await (await route.fetch()).json()) as { user_id: string; member_key: string }[];
    await route.fulfill({ json: served.map((k) => (k.user_id === unaId ? { ...k, member_key: Buffer.alloc(32, 9).toString("base64url") } : k)) });
  });
  await form.getByLabel("Their safety number or QR code").fill(number);
  await form.getByRole("button", { name: "Check and add" }).click();
  await expect(form.getByRole("alert")).toContainText(mismatch);
  await expect(page.locator(`.roster tr[data-member="${unaId}"]`)).toHaveCount(0);
  await checkScreen(page, "group-add-by-number");
  await page.unrouteAll();
  // The real key and the right number: signed into the log.
  await form.getByRole("button", { name: "Check and add" }).click();
  await expect(form.getByRole("status")).toHaveText("una.sdk was added: their key matches the safety number.");
  await expect(page.locator(`.roster tr[data-member="${unaId}"]`)).toHaveAttribute("data-role", "member");
  // Una pins the group key by its fingerprint, certifies her device, and verifies herself in.
  expect((await sdk("join-by-fingerprint", ...una, "--group", groupId, "--text", fingerprint)).fingerprint).toBe(fingerprint);
  expect(((await sdk("roster", ...una, "--group", groupId)).members as Record<string, string>)[unaId]).toBe("member");
});
