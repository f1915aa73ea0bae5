/** Enrolment with TOTP, login, logout and sessions, in Chromium against a real server. */
import type { Page } from "@playwright/test";
import { expect, PASSWORD, test } from "./fixtures";
import { totp } from "./totp";

async function enrolWithTotp(page: Page, code: string): Promise<string> {
  await page.goto("/enrol");
  await page.getByLabel("Enrolment code").fill(code);
  await page.getByRole("button", { name: "Continue" }).click();
  await expect(page.getByRole("img", { name: /QR code/ })).toBeVisible();
  const seed = (await page.getByTestId("totp-secret").textContent())?.trim() ?? "";
  expect(seed).toMatch(/^[A-Z2-7]{16,}$/);
  await page.getByLabel("New password", { exact: true }).fill(PASSWORD);
  await page.getByLabel("New password, again").fill(PASSWORD);
  await page.getByLabel("Code from the app").fill(totp(seed));
  await page.getByRole("button", { name: "Finish set-up" }).click();
  return seed;
}

async function logIn(page: Page, username: string, code: string | null): Promise<string> {
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(PASSWORD);
  if (code) await page.getByLabel("Authenticator code").fill(code);
  const answer = page.waitForResponse((r) => r.url().endsWith("/api/v1/auth/login") && r.status() === 200);
  await page.getByRole("button", { name: "Log in" }).click();
  const token = ((await (await answer).json()) as { access_token: string }).access_token;
  await expect(page.getByRole("heading", { name: "Groups" })).toBeVisible();
  return token;
}

async function tokenWorks(baseURL: string, token: string): Promise<number> {
  return (await fetch(`${baseURL}/api/v1/users/me`, { headers: { Authorization: `Bearer ${token}` } })).status;
}

test("an administrator enrols with TOTP from the QR's seed, logs in with TOTP and out", async ({ page, server }) => {
  const code = await server.createUser("ana.admin", { admin: true, displayName: "Ana Admin" });
  const seed = await enrolWithTotp(page, code);

  await expect(page).toHaveURL(/\/login\?username=ana\.admin$/);
  await expect(page.getByRole("status")).toHaveText("Your account is ready. Log in with your new password.");
  await expect(page.getByLabel("Username")).toHaveValue("ana.admin");

  // TOTP is now required: without it the server refuses, and the page says so plainly.
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByRole("alert")).toContainText("Enter the code from your authenticator app.");
  await expect(page.getByRole("alert")).toContainText("auth.totp_required");

  // The next step's code: the enrolment used this one, and the server refuses a replay.
  const token = await logIn(page, "ana.admin", totp(seed, 1));
  await expect(page.getByText("Welcome, Ana Admin.")).toBeVisible();
  expect(await tokenWorks(server.base, token)).toBe(200);

  await page.getByRole("button", { name: "Log out", exact: true }).click();
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByRole("status")).toHaveText("You are logged out.");
  expect(await tokenWorks(server.base, token)).toBe(401);

  await page.goto("/sessions");
  await expect(page).toHaveURL(/\/login$/);
});

test("a used enrolment code is refused in one plain line with its code", async ({ page, server }) => {
  const code = await server.createUser("used.code", { admin: true });
  await enrolWithTotp(page, code);
  await expect(page).toHaveURL(/\/login/);
  await page.goto("/enrol");
  await page.getByLabel("Enrolment code").fill(code);
  await page.getByRole("button", { name: "Continue" }).click();
  await expect(page.getByRole("alert")).toContainText("This enrolment code is unknown, expired or already used.");
  await expect(page.getByRole("alert")).toContainText("enrolment.invalid_code");
});

test("a refusal is one line in the user's language with the stable code", async ({ page, server }) => {
  await server.enrolledUser("fr.officer", PASSWORD);
  await page.goto("/login");
  await page.getByLabel("Language").selectOption("fr");
  await page.getByLabel("Nom d'utilisateur").fill("fr.officer");
  await page.getByLabel("Mot de passe").fill("not the password");
  await page.getByRole("button", { name: "Se connecter" }).click();
  const alert = page.getByRole("alert");
  await expect(alert).toContainText("Nom d'utilisateur ou mot de passe incorrect.");
  await expect(alert).toContainText("auth.invalid_credentials");
  await expect(alert).not.toContainText("Wrong username");
});

test("sessions: this device is listed, a login reuses it, and 'log out everywhere' ends it", async ({ page, server }) => {
  await server.enrolledUser("sam.sessions", PASSWORD);
  await page.goto("/login");
  const first = await logIn(page, "sam.sessions", null);
  await page.getByRole("link", { name: "Sessions" }).click();
  await expect(page.getByRole("heading", { name: "Sessions and devices" })).toBeVisible();
  await expect(page.locator(".device")).toHaveCount(1);
  await expect(page.locator(".device")).toContainText("This device");
  // Ending a sign-in is not removing a lost device from the groups: that is on Devices and keys.
  await expect(page.getByText("This ends a sign-in only: the device stays certified")).toBeVisible();
  await page.getByRole("link", { name: "Remove a lost or stolen device for good" }).click();
  await expect(page.getByRole("heading", { name: "Devices and keys" })).toBeVisible();
  await page.getByRole("link", { name: "Sessions" }).click();

  // A second login from this browser is the same device, not a new one.
  await page.getByRole("button", { name: "Log out", exact: true }).click();
  const second = await logIn(page, "sam.sessions", null);
  await page.getByRole("link", { name: "Sessions" }).click();
  await expect(page.locator(".device")).toHaveCount(1);
  expect(await tokenWorks(server.base, first)).toBe(401);

  await page.getByRole("button", { name: "Log out everywhere" }).click();
  await expect(page).toHaveURL(/\/login$/);
  expect(await tokenWorks(server.base, second)).toBe(401);
});

test("a revoked device is replaced by a new one at the next login", async ({ page, server }) => {
  await server.enrolledUser("rita.revoke", PASSWORD);
  await page.goto("/login");
  await logIn(page, "rita.revoke", null);
  await page.getByRole("link", { name: "Sessions" }).click();
  await page.getByRole("button", { name: /^Revoke Cordon web/ }).click();
  await expect(page).toHaveURL(/\/login$/);
  await logIn(page, "rita.revoke", null);
  await page.getByRole("link", { name: "Sessions" }).click();
  await expect(page.locator(".device")).toHaveCount(2);
  await expect(page.locator(".device.revoked")).toHaveCount(1);
  await expect(page.locator(".device:not(.revoked)")).toContainText("This device");
});

test("a user without TOTP turns it on from the QR code and needs it from then on", async ({ page, server }) => {
  await server.enrolledUser("tom.totp", PASSWORD);
  await page.goto("/login");
  await logIn(page, "tom.totp", null);
  await page.getByRole("link", { name: "Sessions" }).click();
  await page.getByRole("button", { name: "Turn on two-step verification" }).click();
  await expect(page.getByRole("img", { name: /QR code/ })).toBeVisible();
  const seed = (await page.getByTestId("totp-secret").textContent())?.trim() ?? "";
  await page.getByLabel("Code from the app").fill(totp(seed));
  await page.getByRole("button", { name: "Confirm" }).click();
  await expect(page.getByRole("status")).toHaveText("Two-step verification is now on.");

  await page.getByRole("button", { name: "Log out", exact: true }).click();
  await page.getByLabel("Username").fill("tom.totp");
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByRole("alert")).toContainText("auth.totp_required");
  await logIn(page, "tom.totp", totp(seed, 1));
});

test("an expired token ends the session on screen, with the reason", async ({ page, server }) => {
  await server.enrolledUser("eva.expiry", PASSWORD);
  await page.clock.install();
  await page.goto("/login");
  await logIn(page, "eva.expiry", null);
  await page.getByRole("link", { name: "Sessions" }).click();
  await page.clock.fastForward("12:00:05"); // CORDON_TOKEN_TTL_HOURS' default, 12
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByRole("status")).toHaveText("Your session ended. Please log in again.");
});

test("the login screen loads the shell only; the key primitives and the group list load at login, the feed and the cases when opened", async ({ page, server }) => {
  await server.enrolledUser("lea.lazy", PASSWORD);
  const scripts: string[] = [];
  page.on("request", (r) => {
    if (r.resourceType() === "script") scripts.push(new URL(r.url()).pathname);
  });
  await page.goto("/login");
  await expect(page.getByRole("button", { name: "Log in" })).toBeVisible();
  expect(scripts.some((s) => /\/assets\/index-[\w-]+\.js$/.test(s))).toBe(true);
  expect(scripts.filter((s) => /FeedScreen|CasesScreen|LibraryScreen|primitives|TotpQr|GroupsScreen|GroupScreen|DevicesScreen/.test(s))).toEqual([]);

  await logIn(page, "lea.lazy", null);
  expect(scripts.some((s) => /\/assets\/primitives-[\w-]+\.js$/.test(s))).toBe(true);
  expect(scripts.some((s) => /\/assets\/GroupsScreen-[\w-]+\.js$/.test(s))).toBe(true); // the start page
  expect(scripts.filter((s) => /FeedScreen|CasesScreen|LibraryScreen|GroupScreen|DevicesScreen/.test(s))).toEqual([]);

  await page.getByRole("link", { name: "Alerts" }).click();
  await expect(page.getByRole("heading", { name: "Group alerts" })).toBeVisible();
  expect(scripts.some((s) => /\/assets\/FeedScreen-[\w-]+\.js$/.test(s))).toBe(true);
  expect(scripts.filter((s) => /CasesScreen/.test(s))).toEqual([]);

  await page.getByRole("link", { name: "Cases" }).click();
  await expect(page.getByRole("heading", { name: "Seizure cases" })).toBeVisible();
  expect(scripts.some((s) => /\/assets\/CasesScreen-[\w-]+\.js$/.test(s))).toBe(true);
});
