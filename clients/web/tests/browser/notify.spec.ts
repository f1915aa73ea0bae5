/**
 * Urgent alerts raise a system notification while the tab is in the background (Notifications
 * API, src/feed/notify.ts), and only urgent ones: a browser member with the permission granted
 * watches a group's feed from a hidden tab while the Python SDK coordinator sends a normal
 * alert and then an urgent one, against a real server.
 */
import { askToJoin, checkScreen, expect, openInFeed, PASSWORD, sdk, sdkCoordinatorGroup, test } from "./fixtures";

interface Shown {
  title: string;
  body: string | null;
  tag: string | null;
}

declare global {
  interface Window {
    cordonTestShown: Shown[];
    cordonTestSetHidden: (hidden: boolean) => void;
  }
}

test("an urgent alert raises exactly one system notification while the tab is hidden; a normal one raises none", async ({ page, server }) => {
  test.setTimeout(180_000);
  await page.context().grantPermissions(["notifications"], { origin: server.base });
  await page.addInitScript(() => {
    // Every Notification the page constructs is recorded, then the real one is made.
    const Real = window.Notification;
    const shown: Shown[] = [];
    window.cordonTestShown = shown;
    window.Notification = new Proxy(Real, {
      construct(target, args: [string, NotificationOptions?]) {
        const [title, options] = args;
        shown.push({ title, body: options?.body ?? null, tag: options?.tag ?? null });
        return Reflect.construct(target, args) as Notification;
      },
      get(target, name) {
        const value = Reflect.get(target, name) as unknown;
        return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    // Why an override and not a real background tab: headless Chromium keeps every page
    // "visible". Bringing a second page to the front, opening a tab in the same window or a
    // background target through CDP (Target.createTarget background: true), and minimising the
    // window (Browser.setWindowBounds) all left document.visibilityState at "visible" here, and
    // CDP has no visibility emulation. So the test takes the page's word away the way a
    // browser does when the tab goes to the background: `visibilityState`/`hidden` answer
    // "hidden", and a `visibilitychange` event fires. Nothing of the app is replaced.
    let hidden = false;
    Object.defineProperty(Document.prototype, "visibilityState", { configurable: true, get: () => (hidden ? "hidden" : "visible") });
    Object.defineProperty(Document.prototype, "hidden", { configurable: true, get: () => hidden });
    window.cordonTestSetHidden = (next: boolean) => {
      hidden = next;
      document.dispatchEvent(new Event("visibilitychange"));
    };
  });

  const { common, groupId, opened } = await sdkCoordinatorGroup(server, "nora.coord", "Operation Bell");
  await server.enrolledUser("nico.notify", PASSWORD);
  await askToJoin(page, "nico.notify", opened.invitation);
  await sdk("admit", ...common, "--group", groupId);
  await openInFeed(page, "Operation Bell");
  await expect(page.getByTestId("fingerprint")).toHaveText(String(opened.fingerprint));
  await expect(page.getByText("System notifications are on for urgent alerts.")).toBeVisible();
  await expect(page.locator("[data-link]")).toHaveCount(0); // live
  // Visible: an urgent alert is on screen, no system notification.
  await sdk("send", ...common, "--group", groupId, "--text", "Seen while looking", "--urgent");
  await expect(page.locator(".feed .item", { hasText: "Seen while looking" })).toBeVisible();

  // The tab goes to the background; a normal alert, then an urgent one.
  await page.evaluate(() => window.cordonTestSetHidden(true));
  await sdk("send", ...common, "--group", groupId, "--text", "Routine: berth 12 cleared");
  await sdk("send", ...common, "--group", groupId, "--text", "URGENT: container MSCU9990001 seal broken", "--urgent");
  // Items are handled in order, so once the urgent one raised its notification, the normal
  // one before it was handled too (and raised none).
  await expect.poll(() => page.evaluate(() => window.cordonTestShown.length)).toBe(1);
  const shown = await page.evaluate(() => window.cordonTestShown);
  expect(shown).toEqual([{ title: "Cordon: urgent alert", body: "An urgent alert arrived in one of your groups. Open Cordon to read it.", tag: "cordon-urgent" }]);
  // The notification says that something urgent came, never what (no decrypted text).
  expect(JSON.stringify(shown)).not.toContain("MSCU9990001");

  // Back to the tab: both alerts are there, the urgent one marked; still one notification.
  await page.evaluate(() => window.cordonTestSetHidden(false));
  await expect(page.locator(".feed .item", { hasText: "Routine: berth 12 cleared" })).toHaveAttribute("data-urgent", "false");
  await expect(page.locator(".feed .item", { hasText: "URGENT: container MSCU9990001 seal broken" })).toHaveAttribute("data-urgent", "true");
  expect(await page.evaluate(() => window.cordonTestShown.length)).toBe(1);
  await checkScreen(page, "feed-notifications-on");
});
