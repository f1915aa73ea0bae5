/**
 * Vaccine pre-notifications between a browser member and a Python SDK member (the group's
 * coordinator), end to end against a real server, through the whole status flow both ways:
 * the SDK sends, the browser (destination) acknowledges, records arrival and a discrepancy,
 * and the SDK sees each signed event verified; the browser sends from the form generated from
 * the template, the SDK (destination) acknowledges, records arrival and clears, the browser
 * sees each event verified and closes; in between the browser amends it (the SDK verifies the
 * event and reads the new version), its typed form survives a reload as an encrypted draft,
 * and the list filters narrow the inbox. A status event tampered in the database is refused with
 * a blocking warning. axe-core and the 360 px phone layout on each screen.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Page } from "@playwright/test";
import { expect, expectAccessible, expectNoHorizontalScroll, KEY_PASSPHRASE, logIn, PASSWORD, screenshot, sdk, test } from "./fixtures";
import { REPO_ROOT } from "./server";

const PHONE = { width: 360, height: 740 };
const DESKTOP = { width: 1280, height: 800 };

/** Desktop and phone: nothing scrolls sideways, axe finds nothing serious, the pictures. */
async function checkScreen(page: Page, name: string): Promise<void> {
  for (const [kind, size] of [["desktop", DESKTOP], ["phone", PHONE]] as const) {
    await page.setViewportSize(size);
    await expectNoHorizontalScroll(page, `${name} (${kind})`);
    await expectAccessible(page, `${name} (${kind})`);
    await screenshot(page, `${name}-${kind}`);
  }
  await page.setViewportSize(DESKTOP);
}

interface PnState {
  id: string;
  status: string;
  events: { to: string; valid: boolean }[];
  refused: string[];
  discrepancies: Record<string, unknown>[];
  trade_name: string;
}

test("a pre-notification through its whole status flow both ways between a browser member and a Python SDK member; a tampered event is refused", async ({ page, server }) => {
  test.setTimeout(300_000);
  const home = mkdtempSync(path.join(tmpdir(), "cordon-pn-"));
  const common = ["--server", server.base, "--home", home];
  const full = async (groupId: string) => (await sdk("pn-state", ...common, "--group", groupId)) as unknown as { items: PnState[]; cases: Record<string, unknown>[] };
  const state = async (groupId: string) => (await full(groupId)).items;

  // A group with the SDK coordinator; the browser member joins and certifies its device.
  const coordCode = await server.createUser("pn.coord", { displayName: "Cora Coordinator" });
  await sdk("enrol", ...common, "--code", coordCode, "--username", "pn.coord");
  const created = await server.admin("create-group", "Operation Cold Chain", "--coordinator", "pn.coord");
  const groupId = /group ([0-9a-f-]{36})/.exec(created)![1]!;
  const opened = await sdk("open", ...common, "--group", groupId);
  await server.enrolledUser("bea.border", PASSWORD);
  await logIn(page, "bea.border");
  await page.getByRole("link", { name: "Alerts" }).click();
  await page.getByLabel("Passphrase", { exact: true }).fill(KEY_PASSPHRASE);
  await page.getByLabel("Passphrase again").fill(KEY_PASSPHRASE);
  await page.getByRole("button", { name: "Protect the keys" }).click();
  await page.getByLabel("Invitation from your coordinator").fill(String(opened.invitation));
  await page.getByRole("button", { name: "Send the join request" }).click();
  await expect(page.getByLabel("Invitation from your coordinator")).toHaveValue("");
  await sdk("admit", ...common, "--group", groupId);
  await page.getByRole("link", { name: "Sessions" }).click();
  await page.getByRole("link", { name: "Alerts" }).click();
  await page.getByRole("button", { name: "Operation Cold Chain" }).click();
  const roster = page.getByRole("table", { name: "Members (verified log)" });
  await expect(roster.getByText("You", { exact: true })).toBeVisible(); // certified

  // ---- SDK departure → browser destination -------------------------------------------------
  const example = JSON.parse(readFileSync(path.join(REPO_ROOT, "clients/python/cordon_client/templates/vaccine-prenotification.v1.example.json"), "utf8")).full;
  example.transport.etd = "2026-01-05T06:00:00Z"; // landed already: overdue until acknowledged
  example.transport.eta = "2026-01-05T15:30:00Z";
  const bea = String((await sdk("whois", ...common, "--group", groupId, "--username", "bea.border")).user_id);
  const inbound = await sdk("pn-send", ...common, "--group", groupId, "--to", bea, "--json", JSON.stringify(example));
  const inboundId = String(inbound.id);

  await page.getByRole("link", { name: "Pre-notifications" }).click();
  await expect(page.getByRole("heading", { name: "Vaccine pre-notifications" })).toBeVisible();
  const inboxItem = page.locator(`.pn-list li[data-prenotification="${inboundId}"]`);
  await expect(inboxItem).toContainText("Comirnaty");
  await expect(inboxItem.locator(".badge.overdue")).toBeVisible();
  // The filters narrow the list: by a country of the route, by the ETA range.
  await page.getByLabel("Country (ISO code)").fill("FR");
  await expect(inboxItem).toHaveCount(0);
  await page.getByLabel("Country (ISO code)").fill("nl"); // transit
  await expect(inboxItem).toBeVisible();
  await page.getByLabel("Country (ISO code)").fill("");
  await page.getByLabel("ETA from").fill("2026-01-06");
  await expect(inboxItem).toHaveCount(0);
  await page.getByLabel("ETA from").fill("2026-01-05");
  await expect(inboxItem).toBeVisible();
  await page.getByLabel("ETA from").fill("");
  await checkScreen(page, "prenotifications-inbox");
  await page.getByRole("button", { name: /^Overdue/ }).click();
  await expect(page.locator(`.pn-list li[data-prenotification="${inboundId}"]`)).toBeVisible();
  await checkScreen(page, "prenotifications-overdue");

  await page.locator(`.pn-list li[data-prenotification="${inboundId}"]`).getByRole("button", { name: /^Open/ }).click();
  const detail = page.locator(`.pn-detail[data-prenotification="${inboundId}"]`);
  await expect(detail.locator(".status")).toHaveAttribute("data-status", "sent");
  await detail.getByRole("button", { name: "Acknowledge" }).click();
  await expect(detail.locator('.timeline li[data-status="acknowledged"][data-verified="true"]')).toBeVisible();
  await detail.getByRole("button", { name: "Record arrival" }).click();
  await expect(detail.locator('.timeline li[data-status="arrived"][data-verified="true"]')).toBeVisible();
  await detail.getByRole("button", { name: "Record a discrepancy" }).click();
  await detail.getByLabel("Kind of discrepancy").selectOption("temperature");
  await detail.getByLabel("Findings").fill("Data logger shows +14 °C for 3 h on arrival");
  await detail.getByLabel("Lots concerned (comma-separated)").fill("FF1234");
  await detail.getByLabel("Temperature found (°C)").fill("14");
  await detail.getByRole("button", { name: "Record the discrepancy" }).click();
  await expect(detail.locator('.timeline li[data-status="discrepancy"][data-verified="true"]')).toBeVisible();
  await expect(detail.locator('.findings li[data-kind="temperature"]')).toContainText("+14 °C");
  await checkScreen(page, "prenotifications-detail");
  // Turned into a seizure case in one step (the simplified form, pre-filled from the finding).
  await detail.getByRole("button", { name: "Turn into a seizure case" }).click();
  const caseLink = detail.getByRole("link", { name: "Open it on the cases screen" });
  await expect(caseLink).toHaveAttribute("href", new RegExp(`^/cases\\?group=${groupId}&seq=\\d+$`));
  const caseSeq = Number(/seq=(\d+)/.exec(String(await caseLink.getAttribute("href")))![1]);

  // The SDK (sender) sees each of the browser's signed events verified, and the findings.
  const seen = await full(groupId);
  expect(seen.cases).toContainEqual({ seq: caseSeq, valid: true, reporting_country: "GH", remarks: `Discrepancy on pre-notification ${inboundId}: Data logger shows +14 °C for 3 h on arrival` });
  const theirs = seen.items.find((p) => p.id === inboundId)!;
  expect(theirs.events).toEqual([
    { to: "acknowledged", valid: true },
    { to: "arrived", valid: true },
    { to: "discrepancy", valid: true },
  ]);
  expect(theirs.status).toBe("discrepancy");
  expect(theirs.refused).toEqual([]);
  expect(theirs.discrepancies).toEqual([{ kind: "temperature", details: "Data logger shows +14 °C for 3 h on arrival", lots: ["FF1234"], temperature_c: 14 }]);

  // ---- browser departure → SDK destination ---------------------------------------------------
  await detail.getByRole("button", { name: "Back to the list" }).click();
  await page.getByRole("button", { name: "New pre-notification" }).click();
  const form = page.locator("form.pn-form");
  await form.getByRole("checkbox", { name: "Cora Coordinator" }).first().check();
  // Sent empty: refused before anything is sealed, each missing part named.
  await form.getByRole("button", { name: "Send the pre-notification" }).click();
  await expect(form.getByRole("alert")).toContainText("fields need your attention");
  await expect(form.locator("ul.field-error")).toContainText("Product: is required");
  // Validated as typed: a wrong value is named at its field at once.
  await form.getByRole("textbox", { name: "Doses", exact: true }).fill("many");
  await expect(form.getByRole("textbox", { name: "Doses", exact: true })).toHaveAttribute("aria-invalid", "true");
  await expect(form.locator(".field.invalid", { has: page.getByRole("textbox", { name: "Doses", exact: true }) }).locator(".field-error")).toContainText("integer");
  await checkScreen(page, "prenotifications-new");
  const fields: [string, string][] = [
    ["Trade name", "Vaxzevria"],
    ["Vaccine type / INN", "ChAdOx1-S"],
    ["Manufacturer", "AstraZeneca"],
    ["Doses", "20000"],
    ["Batch / lot number", "AZ7781"],
    ["Quantity (doses)", "20000"],
    ["Expiry date", "2027-11-30"],
    ["Minimum temperature (°C)", "2"],
    ["Maximum temperature (°C)", "8"],
    ["Flight / voyage", "ET 920"],
    ["ETD (UTC)", "2027-04-02T06:00:00Z"],
    ["ETA (UTC)", "2027-04-02T14:00:00Z"],
    ["Exporter / shipper", "AstraZeneca AB"],
    ["Consignee", "National Cold Store"],
    ["24 h emergency phone", "+46 31 776 10 00"],
  ];
  for (const [name, value] of fields) await form.getByRole("textbox", { name, exact: true }).fill(value);
  const selects: [string, string][] = [
    ["Sender country", "SE"],
    ["Destination country", "KE"],
    ["Handling code", "H2"],
    ["Source reliability", "A"],
    ["Information accuracy", "1"],
    ["HS code", "3002.41"],
    ["IATA handling code", "COL"],
    ["Transport mode", "air"],
  ];
  for (const [name, value] of selects) await form.getByRole("combobox", { name, exact: true }).selectOption(value);
  await expect(form.locator(".field.invalid")).toHaveCount(0);
  // The typed form is an encrypted draft: it survives a reload (and a new login and unlock).
  await expect(form.getByRole("status")).toHaveText("Draft kept on this device, encrypted.");
  await page.reload();
  await logIn(page, "bea.border");
  await page.getByRole("link", { name: "Pre-notifications" }).click();
  await page.getByLabel("Passphrase", { exact: true }).fill(KEY_PASSPHRASE);
  await page.getByRole("button", { name: "Unlock" }).click();
  await page.getByRole("button", { name: "New pre-notification" }).click();
  await expect(form.getByRole("textbox", { name: "Trade name", exact: true })).toHaveValue("Vaxzevria");
  await expect(form.getByRole("combobox", { name: "Transport mode", exact: true })).toHaveValue("air");
  await expect(form.getByRole("checkbox", { name: "Cora Coordinator" }).first()).toBeChecked();
  await form.getByRole("button", { name: "Send the pre-notification" }).click();
  await expect(page.getByText("Pre-notification sent.")).toBeVisible();
  const outItem = page.locator(".pn-list li", { hasText: "Vaxzevria" });
  await expect(outItem).toBeVisible();
  const outboundId = String(await outItem.getAttribute("data-prenotification"));
  await checkScreen(page, "prenotifications-outbox");

  let mine = (await state(groupId)).find((p) => p.id === outboundId)!;
  expect(mine).toMatchObject({ trade_name: "Vaxzevria", status: "sent", refused: [] });
  // The sender amends it: the form starts from the sent version; the SDK verifies the event.
  await outItem.getByRole("button", { name: /^Open/ }).click();
  const amendDetail = page.locator(`.pn-detail[data-prenotification="${outboundId}"]`);
  await amendDetail.getByRole("button", { name: "Amend" }).click();
  const amendForm = amendDetail.locator("form.pn-form");
  await expect(amendForm.getByRole("textbox", { name: "Flight / voyage", exact: true })).toHaveValue("ET 920");
  await amendForm.getByRole("textbox", { name: "Trade name", exact: true }).fill("Vaxzevria (relabelled)");
  await amendForm.getByRole("button", { name: "Send the new version" }).click();
  await expect(amendDetail.locator('.timeline li[data-status="amended"][data-verified="true"]')).toBeVisible();
  mine = (await state(groupId)).find((p) => p.id === outboundId)!;
  expect(mine).toMatchObject({ trade_name: "Vaxzevria (relabelled)", status: "amended", events: [{ to: "amended", valid: true }], refused: [] });
  await amendDetail.getByRole("button", { name: "Back to the list" }).click();
  for (const to of ["acknowledged", "arrived", "cleared"]) await sdk("pn-move", ...common, "--group", groupId, "--id", outboundId, "--to", to);
  await outItem.getByRole("button", { name: /^Open/ }).click();
  const outDetail = page.locator(`.pn-detail[data-prenotification="${outboundId}"]`);
  for (const to of ["acknowledged", "arrived", "cleared"]) await expect(outDetail.locator(`.timeline li[data-status="${to}"][data-verified="true"]`)).toBeVisible();
  await outDetail.getByRole("button", { name: "Close" }).click();
  await expect(outDetail.locator('.timeline li[data-status="closed"][data-verified="true"]')).toBeVisible();
  mine = (await state(groupId)).find((p) => p.id === outboundId)!;
  expect(mine.events).toEqual(["amended", "acknowledged", "arrived", "cleared", "closed"].map((to) => ({ to, valid: true })));

  // ---- a status event tampered in the database ------------------------------------------------
  // While the browser is away, the SDK (sender) closes the first one; an attacker with the
  // database alters that event's signature.
  await page.goto("/sessions");
  await page.reload();
  await sdk("pn-move", ...common, "--group", groupId, "--id", inboundId, "--to", "closed");
  const last = await sdk("pn-last-event", "--database", server.database);
  await sdk("pn-tamper-event", "--database", server.database, "--seq", String(last.seq));
  await logIn(page, "bea.border");
  await page.getByRole("link", { name: "Pre-notifications" }).click();
  await page.getByLabel("Passphrase", { exact: true }).fill(KEY_PASSPHRASE);
  await page.getByRole("button", { name: "Unlock" }).click();
  await page.locator(`.pn-list li[data-prenotification="${inboundId}"]`).getByRole("button", { name: /^Open/ }).click();
  const warned = page.locator(`.pn-detail[data-prenotification="${inboundId}"]`);
  await expect(warned.locator('.timeline li[data-verified="false"]').getByRole("alert")).toContainText("Warning: this status change was refused");
  await expect(warned.locator('.timeline li[data-status="closed"]')).toHaveCount(0);
  await expect(warned.locator(".status")).toHaveAttribute("data-status", "discrepancy"); // the last verified status
  await checkScreen(page, "prenotifications-refused");
  // Arabic, right to left, on the phone: the warning stays a blocking alert.
  await page.getByLabel("Language").selectOption("ar");
  await expect(page.locator("html")).toHaveAttribute("dir", "rtl");
  await expect(warned.locator('.timeline li[data-verified="false"]').getByRole("alert")).toContainText("تحذير");
  await page.setViewportSize(PHONE);
  await expectNoHorizontalScroll(page, "refused event (ar, phone)");
  await expectAccessible(page, "refused event (ar, phone)");
  await screenshot(page, "prenotifications-refused-ar-phone");
  await page.getByLabel("اللغة").selectOption("en");
});
