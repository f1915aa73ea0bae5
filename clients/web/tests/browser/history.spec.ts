/**
 * History for late joiners (PROTOCOL §9.1) between the browser and the Python SDK, against a
 * real server: a coordinator's logged `grant_history(member, "cases")` lets a member who joined
 * after the operation's first cases read them from their ORIGINAL envelopes; an envelope
 * changed in the server's database is refused with the exact reason, never shown as content;
 * a chat sent before the member's device was certified shows as sent before joining until the
 * grant brings it, then as received.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Page } from "@playwright/test";
import { checkScreen, expect, feedFrames, type Json, KEY_PASSPHRASE, logIn, PASSWORD, py, sdk, sdkCoordinatorGroup, test, turnOnTotp } from "./fixtures";
import { REPO_ROOT } from "./server";
import { totp } from "./totp";

/** The password `sdk_member.py enrol` sets. */
const SDK_PASSWORD = "Coordinator-password-2026!";
const FULL_EXAMPLE = JSON.parse(readFileSync(path.join(REPO_ROOT, "clients/python/cordon_client/templates/seizure-case.v1.example.json"), "utf8")).full;

/** A browser member protects its keys and answers the coordinator's invitation. */
async function answerInvitation(page: Page, invitation: string): Promise<void> {
  await page.getByRole("link", { name: "Cases", exact: true }).click();
  await page.getByLabel(/^Passphrase( \*)?$/).fill(KEY_PASSPHRASE);
  await page.getByLabel("Passphrase again").fill(KEY_PASSPHRASE);
  await page.getByRole("button", { name: "Protect the keys" }).click();
  await expect(page.getByText("You are in no group yet")).toBeVisible();
  await page.getByRole("link", { name: "Alerts" }).click();
  await page.getByLabel("Invitation from your coordinator").fill(invitation);
  await page.getByRole("button", { name: "Send the join request" }).click();
  await expect(page.getByLabel("Invitation from your coordinator")).toHaveValue("");
}

test("an SDK coordinator grants cases history to a browser member who joined late; a tampered earlier case is refused", async ({ page, server }) => {
  test.setTimeout(300_000);
  const { common, groupId, opened } = await sdkCoordinatorGroup(server, "carla.history", "Operation Hindsight", "Carla Coordinator");
  const g = [...common, "--group", groupId];

  // Two cases before the browser member joins; the coordinator keeps the keys of its own.
  const early = await py("sdk_cases.py", "post", ...g, "--form", "full", "--data", JSON.stringify({ ...FULL_EXAMPLE, operation: "EARLY CASE ONE" }));
  const changed = await py("sdk_cases.py", "post", ...g, "--form", "full", "--data", JSON.stringify({ ...FULL_EXAMPLE, operation: "EARLY CASE TWO" }));

  await server.enrolledUser("bruno.history", PASSWORD);
  const frames = await feedFrames(page);
  await logIn(page, "bruno.history");
  await answerInvitation(page, String(opened.invitation));
  // Sent after the admission but before this browser certified its device (its feed would do
  // so as the admission arrives: held back until the alert is sent): by policy (§9)
  // unreadable here, shown as sent before joining, not as a refused (forged) item.
  frames.hold();
  await sdk("admit", ...g);
  const beforeDevice = await sdk("send", ...g, "--text", "chat before the browser device");
  frames.release();
  await page.getByRole("link", { name: "Cases", exact: true }).click();
  await expect(page.getByRole("button", { name: "New case" })).toBeVisible();
  await expect(page.locator(".case-row")).toHaveCount(0); // the earlier cases are not readable yet
  await page.getByRole("link", { name: "Alerts" }).click();
  await page.getByRole("button", { name: "Operation Hindsight" }).click();
  const unreadable = page.locator(`.feed .item[data-seq="${String(beforeDevice.seq)}"]`);
  await expect(unreadable).toHaveAttribute("data-before", "joined");
  await expect(unreadable).toContainText(`Item ${String(beforeDevice.seq)} was sent before you joined this group.`);
  await expect(page.locator(".feed .item.refused")).toHaveCount(0);
  await page.getByRole("link", { name: "Cases", exact: true }).click();
  await expect(page.getByRole("button", { name: "New case" })).toBeVisible();

  // The server's disk is changed under the second case; then the coordinator grants history.
  await sdk("tamper", "--database", server.database, "--seq", String(changed.seq));
  const who = await sdk("whois", ...g, "--username", "bruno.history");
  const granted = await py("sdk_history.py", "grant", ...g, "--user", String(who.user_id), "--scope", "cases");
  expect(granted.granted).toBe(3); // the two cases and the alert (all broadcast alerts are in scope)

  // The grant arrives live; the cases screen imports the earlier items as if received then.
  const row = page.locator(`.case-row[data-case="${String(early.seq)}"]`);
  await expect(row).toBeVisible({ timeout: 30_000 });
  await row.getByRole("button").click();
  await expect(page.locator(`article.case-detail[data-case="${String(early.seq)}"]`)).toContainText("EARLY CASE ONE");
  await page.getByRole("button", { name: "Back to the list" }).click();
  const warning = page.locator(`.cases .item.refused[data-seq="${String(changed.seq)}"]`);
  await expect(warning.getByRole("alert")).toContainText(`Warning: item ${String(changed.seq)} was refused`);
  await expect(warning).toContainText("shared with you by a coordinator");
  await expect(warning).toContainText(`granted item seq ${String(changed.seq)}: the served envelope is not the one granted`);
  await expect(page.getByText("EARLY CASE TWO")).toHaveCount(0);
  await checkScreen(page, "cases-history");

  // The feed shows the imported alert in place of "sent before you joined", as if received
  // then; the earlier cases come as links to them, the changed one only as its refusal. No
  // read receipt goes for them (the server refuses those for items from before joining).
  const refusedReceipts: number[] = [];
  page.on("response", (r) => void (r.url().endsWith("/api/v1/receipts") && r.status() >= 400 && refusedReceipts.push(r.status())));
  await page.getByRole("link", { name: "Alerts" }).click();
  await page.getByRole("button", { name: "Operation Hindsight" }).click();
  await expect(unreadable).toContainText("chat before the browser device");
  await expect(unreadable).not.toHaveAttribute("data-before");
  await expect(unreadable).not.toContainText("sent before you joined");
  await expect(page.locator(`.feed .item[data-seq="${String(early.seq)}"]`).getByRole("link")).toBeVisible();
  const refusedLine = page.locator(`.feed .item.refused[data-seq="${String(changed.seq)}"]`);
  await expect(refusedLine).toContainText(`granted item seq ${String(changed.seq)}: the served envelope is not the one granted`);
  await expect(page.locator(".feed .item.refused")).toHaveCount(1);
  await expect(page.getByText("EARLY CASE TWO")).toHaveCount(0);
  await page.waitForTimeout(1000); // a read receipt would have left at once
  expect(refusedReceipts).toEqual([]);
});

test("a browser coordinator grants cases history to an SDK member who joined late; the SDK imports it", async ({ page, server }) => {
  test.setTimeout(300_000);
  await server.enrolledUser("cora.history", PASSWORD);
  await logIn(page, "cora.history");
  await turnOnTotp(page);
  const created = await server.admin("create-group", "Operation Afterglow", "--coordinator", "cora.history");
  const groupId = /group ([0-9a-f-]{36})/.exec(created)![1]!;
  await page.getByRole("link", { name: "Groups" }).click();
  await page.locator(`tr[data-group="${groupId}"]`).getByRole("link", { name: "Operation Afterglow" }).click();
  await page.getByLabel("Passphrase", { exact: true }).fill(KEY_PASSPHRASE);
  await page.getByLabel("Passphrase again").fill(KEY_PASSPHRASE);
  await page.getByRole("button", { name: "Protect the keys" }).click();
  await page.getByRole("button", { name: "Open the signed log" }).click();
  await page.getByLabel("New status").selectOption("active");
  await page.getByRole("button", { name: "Change the status" }).click();
  await expect(page.getByTestId("group-status")).toContainText("Active");

  /** An SDK member invited, admitted here, its device certified. */
  async function member(username: string): Promise<{ id: string; args: string[] }> {
    await page.getByLabel("For (username, optional)").fill(username);
    await page.getByRole("button", { name: "Make an invitation" }).click();
    const invitation = (await page.getByTestId("invitation").textContent())!.trim();
    const home = mkdtempSync(path.join(tmpdir(), `cordon-${username}-`));
    const common = ["--server", server.base, "--home", home];
    const enrolled = await sdk("enrol", ...common, "--code", await server.createUser(username, { displayName: username }), "--username", username);
    await sdk("join-request", ...common, "--invitation", invitation);
    await page.getByRole("button", { name: "Check for join requests" }).click();
    await page.getByRole("button", { name: `Admit ${username}` }).click();
    await expect(page.locator(`.roster tr[data-member="${String(enrolled.user_id)}"]`)).toBeVisible();
    await sdk("join", ...common, "--group", groupId);
    return { id: String(enrolled.user_id), args: [...common, "--group", groupId] };
  }

  // An early member posts a case; this coordinator's browser opens it (and keeps its key) and
  // broadcasts an alert of its own (its key kept before sealing).
  const early = await member("erin.history");
  const posted = await py("sdk_cases.py", "post", ...early.args, "--form", "full", "--data", JSON.stringify({ ...FULL_EXAMPLE, operation: "BEFORE LATE JOINER" }));
  await page.getByRole("link", { name: "Alerts" }).click();
  await page.getByRole("button", { name: "Operation Afterglow" }).click();
  await expect(page.locator(`.feed .item[data-seq="${String(posted.seq)}"]`).getByRole("link")).toBeVisible();
  await page.getByLabel("Alert", { exact: true }).fill("Coordinator alert before the late joiner");
  await page.getByRole("button", { name: "Send alert" }).click();
  await expect(page.locator(".feed").getByText("Coordinator alert before the late joiner")).toBeVisible();

  // The late member reads none of it; the grant, signed here, lets it import both.
  await page.getByRole("link", { name: "Groups" }).click();
  await page.getByRole("link", { name: "Operation Afterglow" }).click();
  const late = await member("lars.history");
  let seen = await py("sdk_history.py", "cases", ...late.args);
  expect((seen.cases as Json[]).map((c) => c.seq)).toEqual([]);
  const card = page.getByTestId("history-grant");
  await card.getByLabel("Member").selectOption(late.id);
  await card.getByLabel("What to share").selectOption("cases");
  await card.getByRole("button", { name: "Sign and share the history" }).click();
  await expect(card.getByRole("status")).toHaveText("History shared with lars.history: 2 earlier items.");
  await checkScreen(page, "group-history-grant");
  seen = await py("sdk_history.py", "cases", ...late.args);
  expect(seen.cases).toEqual([{ seq: posted.seq, operation: "BEFORE LATE JOINER" }]);
  expect(seen.refused).toEqual([]);
  expect(((await sdk("roster", ...late.args)).members as Record<string, string>)[late.id]).toBe("member");
});

test("a second browser device linked later reads the earlier feed items and cases its first device hands over, even when the first hand-over failed", async ({ page, browser, server }) => {
  test.setTimeout(240_000);
  const { common, groupId, opened } = await sdkCoordinatorGroup(server, "cole.history", "Operation Relay");
  const g = [...common, "--group", groupId];

  // The first device joins, reads an alert and a case.
  await server.enrolledUser("lina.history", PASSWORD);
  await logIn(page, "lina.history");
  await answerInvitation(page, String(opened.invitation));
  await sdk("admit", ...g);
  await page.getByRole("link", { name: "Groups" }).click();
  await page.getByRole("link", { name: "Operation Relay" }).click();
  const fingerprint = (await page.getByTestId("root-fingerprint").textContent())!.trim();
  const alert = await sdk("send", ...g, "--text", "Earlier alert: container MSKU1112223 on hold");
  const posted = await py("sdk_cases.py", "post", ...g, "--form", "full", "--data", JSON.stringify({ ...FULL_EXAMPLE, operation: "CASE BEFORE THE SECOND DEVICE" }));
  await page.getByRole("link", { name: "Alerts" }).click();
  await page.getByRole("button", { name: "Operation Relay" }).click();
  await expect(page.locator(".feed .item", { hasText: "Earlier alert: container MSKU1112223 on hold" })).toBeVisible();
  await page.getByRole("link", { name: "Cases", exact: true }).click();
  await expect(page.locator(`.case-row[data-case="${String(posted.seq)}"]`)).toBeVisible();

  // The second device shows its code; the first links it, but its history transfer is lost on
  // the way (the network drops the first HISTORY_TRANSFER POST).
  let dropped = 0;
  await page.route("**/api/v1/groups/*/messages", async (route) => {
    const request = route.request();
    if (dropped === 0 && request.method() === "POST" && (request.postDataJSON() as Json).kind === "history_transfer") {
      dropped += 1;
      await route.abort("failed");
    } else await route.continue();
  });
  const context = await browser.newContext({ baseURL: server.base });
  const second = await context.newPage();
  await logIn(second, "lina.history");
  await second.getByRole("link", { name: "Devices" }).click();
  await second.getByLabel("Passphrase", { exact: true }).fill(KEY_PASSPHRASE);
  await second.getByLabel("Passphrase again").fill(KEY_PASSPHRASE);
  await second.getByRole("button", { name: "Protect the keys" }).click();
  const linkCode = (await second.getByTestId("link-code").textContent())!.trim();
  await page.getByRole("link", { name: "Devices" }).click();
  await page.getByLabel("Link code of the new device").fill(linkCode);
  await page.getByRole("button", { name: "Link the device" }).click();
  await expect(page.locator('[data-outcome="linked"]')).toHaveText("Operation Relay: device linked");
  await expect(page.locator('[data-history="failed"]')).toContainText("Operation Relay: your earlier items could not be sent to the new device");
  expect(dropped).toBe(1);

  // Entering the same code again: the log already has the device, but the history still goes.
  await page.getByRole("button", { name: "Link the device" }).click();
  await expect(page.locator('[data-outcome="already"]')).toHaveText("Operation Relay: the device was already linked");
  await expect(page.locator('[data-history="sent"]')).toContainText("Operation Relay: your earlier items were sent to the new device");
  // Once sent, a third time sends nothing more.
  await page.getByRole("button", { name: "Link the device" }).click();
  await expect(page.locator('[data-outcome="already"]')).toBeVisible();
  await expect(page.locator("[data-history]")).toHaveCount(0);

  // The second device pins the group key; the items that waited for it come at once: the
  // earlier ones it could not read are replaced by what the first device handed over.
  await second.getByRole("link", { name: "Groups" }).click();
  await second.getByRole("link", { name: "Operation Relay" }).click();
  await second.getByLabel("Digits or QR code to compare").fill(fingerprint);
  await second.getByRole("button", { name: "Pin the key" }).click();
  await expect(second.getByTestId("root-fingerprint")).toHaveText(fingerprint);
  await second.getByRole("link", { name: "Alerts" }).click();
  await second.getByRole("button", { name: "Operation Relay" }).click();
  await expect(second.locator(`.feed .item[data-seq="${String(alert.seq)}"]`)).toContainText("Earlier alert: container MSKU1112223 on hold");
  await expect(second.locator(".feed .item.refused")).toHaveCount(0);
  await second.getByRole("link", { name: "Cases", exact: true }).click();
  await second.locator(`.case-row[data-case="${String(posted.seq)}"]`).getByRole("button").click();
  await expect(second.locator(`article.case-detail[data-case="${String(posted.seq)}"]`)).toContainText("CASE BEFORE THE SECOND DEVICE");
  // …and what is sent now reaches it directly.
  await sdk("send", ...g, "--text", "Later alert after linking");
  await second.getByRole("link", { name: "Alerts" }).click();
  await second.getByRole("button", { name: /^Operation Relay/ }).click();
  await expect(second.locator(".feed .item", { hasText: "Later alert after linking" })).toBeVisible();
  await context.close();
});

test("an SDK coordinator grants pre-notification history: the late browser member sees the earlier pre-notification with its verified status events", async ({ page, server }) => {
  test.setTimeout(240_000);
  const { common: carla, coord, groupId, opened } = await sdkCoordinatorGroup(server, "carla.pnhist", "Operation Coldchain");
  const doraHome = mkdtempSync(path.join(tmpdir(), "cordon-pnh-dora-"));
  const dora = ["--server", server.base, "--home", doraHome];
  await sdk("enrol", ...dora, "--code", await server.createUser("dora.pnhist"), "--username", "dora.pnhist");
  await sdk("join-request", ...dora, "--invitation", String(opened.invitation));
  await sdk("admit", ...carla, "--group", groupId);
  await sdk("join", ...dora, "--group", groupId);

  // Dora sends a pre-notification to the coordinator, who acknowledges it (and keeps its key).
  const example = JSON.parse(readFileSync(path.join(REPO_ROOT, "clients/python/cordon_client/templates/vaccine-prenotification.v1.example.json"), "utf8")).full;
  const sent = await sdk("pn-send", ...dora, "--group", groupId, "--to", String(coord.user_id), "--json", JSON.stringify(example));
  await sdk("pn-move", ...carla, "--group", groupId, "--id", String(sent.id), "--to", "acknowledged");
  await sdk("pn-state", ...carla, "--group", groupId);

  const invitation = await sdk("invite", ...carla, "--group", groupId);
  await server.enrolledUser("bruno.pnhist", PASSWORD);
  await logIn(page, "bruno.pnhist");
  await answerInvitation(page, String(invitation.invitation));
  await sdk("admit", ...carla, "--group", groupId);
  await page.getByRole("link", { name: "Cases", exact: true }).click();
  await expect(page.getByRole("button", { name: "New case" })).toBeVisible(); // this device certified
  const who = await sdk("whois", ...carla, "--group", groupId, "--username", "bruno.pnhist");
  const granted = await py("sdk_history.py", "grant", ...carla, "--group", groupId, "--user", String(who.user_id), "--scope", "prenotifications");
  expect(granted.granted).toBe(2); // the pre-notification and its signed status event

  await page.getByRole("link", { name: "Pre-notifications" }).click();
  const item = page.locator(`.pn-list li[data-prenotification="${String(sent.id)}"]`);
  await expect(item).toContainText(String(example.product.trade_name), { timeout: 30_000 });
  await item.getByRole("button", { name: /^Open/ }).click();
  const detail = page.locator(`.pn-detail[data-prenotification="${String(sent.id)}"]`);
  await expect(detail.locator('.timeline li[data-status="acknowledged"][data-verified="true"]')).toBeVisible();
  await expect(detail.locator(".item.refused")).toHaveCount(0);
});

test("a browser device links an SDK device of the same member and hands it its history; the SDK installs it and reads on", async ({ page, server }) => {
  test.setTimeout(240_000);
  const { common: coord, groupId, opened } = await sdkCoordinatorGroup(server, "cole.sdklink", "Operation Handover");
  const phoneHome = mkdtempSync(path.join(tmpdir(), "cordon-sdklink-phone-"));
  const phone = ["--server", server.base, "--home", phoneHome];

  await server.enrolledUser("lena.sdklink", PASSWORD);
  await logIn(page, "lena.sdklink");
  await answerInvitation(page, String(opened.invitation));
  await sdk("admit", ...coord, "--group", groupId);
  await page.getByRole("link", { name: "Groups" }).click();
  await page.getByRole("link", { name: "Operation Handover" }).click();
  const fingerprint = (await page.getByTestId("root-fingerprint").textContent())!.trim();
  await sdk("send", ...coord, "--group", groupId, "--text", "Alert before the SDK device");
  await page.getByRole("link", { name: "Alerts" }).click();
  await page.getByRole("button", { name: "Operation Handover" }).click();
  await expect(page.locator(".feed .item", { hasText: "Alert before the SDK device" })).toBeVisible();
  const posted = await py("sdk_cases.py", "post", ...coord, "--group", groupId, "--form", "full", "--data", JSON.stringify({ ...FULL_EXAMPLE, operation: "CASE BEFORE THE SDK DEVICE" }));
  await page.getByRole("link", { name: "Cases", exact: true }).click();
  await expect(page.locator(`.case-row[data-case="${String(posted.seq)}"]`)).toBeVisible();

  // The same member on the SDK: a new device, linked from the browser, which sends its history.
  const code = await py("sdk_history.py", "login-link", ...phone, "--username", "lena.sdklink", "--password", PASSWORD);
  await page.getByRole("link", { name: "Devices" }).click();
  await page.getByLabel("Link code of the new device").fill(String(code.link_code));
  await page.getByRole("button", { name: "Link the device" }).click();
  await expect(page.locator('[data-outcome="linked"]')).toHaveText("Operation Handover: device linked");
  await expect(page.locator('[data-history="sent"]')).toContainText("Operation Handover: your earlier items were sent to the new device");
  expect((await py("sdk_history.py", "pin", ...phone, "--group", groupId, "--fingerprint", fingerprint)).fingerprint).toBe(fingerprint);
  // The SDK installs the transfer (chains, keys, and the archive's records): the transfer is
  // not among what it shows, and nothing it received was refused for it.
  const got = await py("sdk_history.py", "received", ...phone, "--group", groupId);
  expect((got.items as Json[]).filter((i) => i.kind === "history_transfer")).toEqual([]);
  expect((got.chains as string[]).length).toBe(1); // the coordinator's chain, from the browser's transfer
  // The browser's records archive came along: the SDK's `cases list` shows the earlier case.
  const cases = await py("sdk_history.py", "cases", ...phone, "--group", groupId);
  expect(cases.cases).toEqual([{ seq: posted.seq, operation: "CASE BEFORE THE SDK DEVICE" }]);
  await sdk("send", ...coord, "--group", groupId, "--text", "Alert after the SDK device");
  const later = (await py("sdk_history.py", "received", ...phone, "--group", groupId)).items as Json[];
  expect(later.filter((i) => i.kind === "alert")).toEqual([expect.objectContaining({ verified: true, error: null })]);
});

test("an SDK device links a browser device of the same member and hands it its history; the browser shows the earlier case", async ({ page, server }) => {
  test.setTimeout(240_000);
  const { common: coord, groupId, opened } = await sdkCoordinatorGroup(server, "cole.sdkfirst", "Operation Baton");
  const miraHome = mkdtempSync(path.join(tmpdir(), "cordon-sdkfirst-mira-"));
  const mira = ["--server", server.base, "--home", miraHome];
  const enrolled = await sdk("enrol", ...mira, "--code", await server.createUser("mira.sdkfirst"), "--username", "mira.sdkfirst");
  await sdk("join-request", ...mira, "--invitation", String(opened.invitation));
  await sdk("admit", ...coord, "--group", groupId);
  await sdk("join", ...mira, "--group", groupId);

  // The member's first (SDK) device reads a case posted before her browser existed.
  const posted = await py("sdk_cases.py", "post", ...coord, "--group", groupId, "--form", "full", "--data", JSON.stringify({ ...FULL_EXAMPLE, operation: "CASE BEFORE THE BROWSER" }));
  const read = await py("sdk_history.py", "cases", ...mira, "--group", groupId);
  expect(read.cases).toEqual([{ seq: posted.seq, operation: "CASE BEFORE THE BROWSER" }]);

  // Her browser shows its link code; the SDK device links it and sends its history.
  await page.goto("/login");
  await page.getByLabel("Username").fill("mira.sdkfirst");
  await page.getByLabel("Password").fill(SDK_PASSWORD);
  await page.getByLabel("Authenticator code").fill(totp(String(enrolled.totp_seed), 1));
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByRole("heading", { name: "Groups" })).toBeVisible();
  await page.getByRole("link", { name: "Devices" }).click();
  await page.getByLabel("Passphrase", { exact: true }).fill(KEY_PASSPHRASE);
  await page.getByLabel("Passphrase again").fill(KEY_PASSPHRASE);
  await page.getByRole("button", { name: "Protect the keys" }).click();
  const linkCode = (await page.getByTestId("link-code").textContent())!.trim();
  const linked = await py("sdk_history.py", "link", ...mira, "--group", groupId, "--code", linkCode);
  expect(linked.sent).toBe(1);

  // The browser pins the group key; the earlier case comes from the SDK's archive.
  await page.getByRole("link", { name: "Groups" }).click();
  await page.getByRole("link", { name: "Operation Baton" }).click();
  await page.getByLabel("Digits or QR code to compare").fill(String(opened.fingerprint));
  await page.getByRole("button", { name: "Pin the key" }).click();
  await expect(page.getByTestId("root-fingerprint")).toHaveText(String(opened.fingerprint));
  await page.getByRole("link", { name: "Cases", exact: true }).click();
  await page.locator(`.case-row[data-case="${String(posted.seq)}"]`).getByRole("button").click();
  await expect(page.locator(`article.case-detail[data-case="${String(posted.seq)}"]`)).toContainText("CASE BEFORE THE BROWSER");
  await expect(page.locator(".item.refused")).toHaveCount(0);
});
