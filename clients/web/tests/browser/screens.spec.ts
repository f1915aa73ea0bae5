/** Every screen on a desktop and on a 360 px phone: no sideways scroll, no serious axe
 * violation, the CSP header on the page; Arabic right to left; screenshots for the README. */
import type { Page } from "@playwright/test";
import { expect, expectAccessible, expectNoHorizontalScroll, PASSWORD, screenshot, test } from "./fixtures";
import type { CordonServer } from "./server";

const VIEWPORTS = {
  desktop: { width: 1280, height: 800 },
  phone: { width: 360, height: 740 },
} as const;

async function check(page: Page, name: string, kind: keyof typeof VIEWPORTS): Promise<void> {
  await expectNoHorizontalScroll(page, `${name} (${kind})`);
  await expectAccessible(page, `${name} (${kind})`);
  await screenshot(page, `${name}-${kind}`);
}

async function walk(page: Page, server: CordonServer, kind: keyof typeof VIEWPORTS): Promise<void> {
  await page.setViewportSize(VIEWPORTS[kind]);
  const response = await page.goto("/login");
  expect(response?.headers()["content-security-policy"]).toContain("script-src 'self'");
  await expect(page.getByRole("heading", { name: "Log in" })).toBeVisible();
  await check(page, "login", kind);

  await page.getByLabel("Username").fill("nobody");
  await page.getByLabel("Password").fill("wrong password");
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByRole("alert")).toBeVisible();
  await check(page, "login-error", kind);

  await page.goto("/enrol");
  await check(page, "enrol-code", kind);
  const code = await server.createUser(`walk.${kind}`, { admin: true, displayName: "Amira Al-Khatib" });
  await page.getByLabel("Enrolment code").fill(code);
  await page.getByRole("button", { name: "Continue" }).click();
  await expect(page.getByRole("img", { name: /QR code/ })).toBeVisible();
  await check(page, "enrol-totp", kind);

  const username = `screens.${kind}`;
  await server.enrolledUser(username, PASSWORD);
  await page.goto("/login");
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByRole("heading", { name: "Groups" })).toBeVisible();
  await check(page, "groups", kind);

  // Pre-notifications before the keystore is set up: the screen and its passphrase gate.
  await page.getByRole("link", { name: "Pre-notifications" }).click();
  await expect(page.getByRole("heading", { name: "Vaccine pre-notifications" })).toBeVisible();
  await expect(page.getByLabel("Passphrase", { exact: true })).toBeVisible();
  await check(page, "prenotifications-locked", kind);
  // Devices and keys: the first visit asks for the passphrase that seals this device's keys.
  await page.getByRole("link", { name: "Devices" }).click();
  await expect(page.getByRole("heading", { name: "Devices and keys" })).toBeVisible();
  await expect(page.getByLabel("Passphrase again")).toBeVisible();
  await check(page, "devices-setup", kind);
  // The cases screen (its own lazy chunk) before the keystore is set up; with cases in it,
  // at 360 px too: cases.spec.ts.
  await page.getByRole("link", { name: "Cases" }).click();
  await expect(page.getByRole("heading", { name: "Seizure cases" })).toBeVisible();
  await expect(page.getByLabel("Passphrase again")).toBeVisible();
  await check(page, "cases-keys", kind);

  await page.getByRole("link", { name: "Sessions" }).click();
  await expect(page.locator(".device")).toHaveCount(1);
  await check(page, "sessions", kind);

  await page.getByRole("button", { name: "Turn on two-step verification" }).click();
  await expect(page.getByRole("img", { name: /QR code/ })).toBeVisible();
  await check(page, "sessions-totp", kind);

  await page.getByLabel("Language").selectOption("ar");
  await expect(page.locator("html")).toHaveAttribute("dir", "rtl");
  await check(page, "sessions-ar", kind);
  await page.getByRole("link", { name: "الأجهزة" }).click();
  await expect(page.getByRole("heading", { name: "الأجهزة والمفاتيح" })).toBeVisible();
  await check(page, "devices-ar", kind);
  await page.getByLabel("اللغة").selectOption("en");

  // The library before the keys are opened (its populated screens: library.spec.ts).
  await page.getByRole("link", { name: "Library" }).click();
  await expect(page.getByRole("heading", { name: "Document library" })).toBeVisible();
  await expect(page.getByRole("heading", { name: "Protect this browser's keys" })).toBeVisible();
  await check(page, "library-keys", kind);
}

for (const kind of Object.keys(VIEWPORTS) as (keyof typeof VIEWPORTS)[]) {
  test(`every screen on a ${kind}: fits, passes axe, carries the CSP`, async ({ page, server }) => {
    test.setTimeout(180_000); // the screens of every feature, two axe runs each, two admin-CLI calls
    await walk(page, server, kind);
  });
}

test("Arabic is laid out right to left and stays chosen after a reload", async ({ page }) => {
  await page.setViewportSize(VIEWPORTS.phone);
  await page.goto("/login");
  await expect(page.locator("html")).toHaveAttribute("dir", "ltr");
  await page.getByLabel("Language").selectOption("ar");
  const html = page.locator("html");
  await expect(html).toHaveAttribute("dir", "rtl");
  await expect(html).toHaveAttribute("lang", "ar");
  await expect(page.getByRole("heading", { name: "تسجيل الدخول" })).toBeVisible();
  expect(await page.locator("main").evaluate((el) => getComputedStyle(el).direction)).toBe("rtl");
  // Right to left: a field's label starts at the right edge of the form.
  const field = await page.getByLabel("اسم المستخدم").boundingBox();
  const label = await page.locator("label", { hasText: "اسم المستخدم" }).boundingBox();
  expect(field && label && Math.abs(label.x + label.width - (field.x + field.width))).toBeLessThan(2);
  await expectNoHorizontalScroll(page, "login (ar)");
  await expectAccessible(page, "login (ar)");
  await screenshot(page, "login-ar-phone");

  await page.reload();
  await expect(page.locator("html")).toHaveAttribute("dir", "rtl");
  await page.getByLabel("اللغة").selectOption("en");
  await expect(page.locator("html")).toHaveAttribute("dir", "ltr");
});

test("each user's language is kept in this browser", async ({ page, server }) => {
  await server.enrolledUser("lena.lang", PASSWORD);
  await page.goto("/login");
  await page.getByLabel("Username").fill("lena.lang");
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByRole("heading", { name: "Groups" })).toBeVisible();
  await page.getByLabel("Language").selectOption("ru");
  await expect(page.getByRole("heading", { name: "Группы" })).toBeVisible();
  await page.getByRole("button", { name: "Выйти" }).click();
  // The language picker is in the header while logged in too: a choice made before the logout
  // has finished would still be recorded as this user's.
  await expect(page.getByRole("button", { name: "Выйти" })).toBeHidden();
  await page.getByLabel("Язык").selectOption("es");
  await page.getByLabel("Nombre de usuario").fill("lena.lang");
  await page.getByLabel("Contraseña").fill(PASSWORD);
  await page.getByRole("button", { name: "Iniciar sesión" }).click();
  await expect(page.getByRole("heading", { name: "Группы" })).toBeVisible();
  await expect(page.locator("html")).toHaveAttribute("lang", "ru");
});

test("keyboard alone: skip link, then the login form in order", async ({ page, server }) => {
  await server.enrolledUser("kim.keys", PASSWORD);
  await page.goto("/login");
  await page.keyboard.press("Tab");
  await expect(page.getByRole("link", { name: "Skip to content" })).toBeFocused();
  await page.keyboard.press("Enter");
  await page.keyboard.press("Tab");
  await expect(page.getByLabel("Username")).toBeFocused();
  await page.keyboard.type("kim.keys");
  await page.keyboard.press("Tab");
  await expect(page.getByLabel("Password")).toBeFocused();
  await page.keyboard.type(PASSWORD);
  await page.keyboard.press("Enter");
  await expect(page.getByRole("heading", { name: "Groups" })).toBeVisible();
});

test("the shell is served for client routes, an unknown one says so, and the PWA caches the shell only", async ({ page, request, server }) => {
  await page.goto("/no/such/screen");
  await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
  const manifest = await request.get("/manifest.webmanifest");
  expect(manifest.headers()["content-type"]).toContain("application/manifest+json");
  expect(((await manifest.json()) as { start_url: string }).start_url).toBe("/");

  await page.goto("/login");
  const registered = await page.evaluate(async () => (await navigator.serviceWorker.ready).active?.scriptURL ?? null);
  expect(registered).toMatch(/\/sw\.js$/);
  await page.reload(); // now controlled by the worker: API calls below pass through it
  expect(await page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);
  await server.enrolledUser("paul.pwa", PASSWORD);
  await page.getByLabel("Username").fill("paul.pwa");
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByRole("link", { name: "Sessions" }).click();
  await expect(page.locator(".device")).toHaveCount(1);

  const cached = await page.evaluate(async () => {
    const urls: string[] = [];
    for (const name of await caches.keys()) {
      for (const req of await (await caches.open(name)).keys()) urls.push(new URL(req.url).pathname);
    }
    return urls;
  });
  expect(cached).toContain("/");
  expect(cached.some((url) => url.startsWith("/assets/"))).toBe(true);
  expect(cached.filter((url) => !(url === "/" || url.startsWith("/assets/") || ["/manifest.webmanifest", "/icon.svg"].includes(url)))).toEqual([]);
});
