/**
 * An admission that arrives while the member looks at another group, end to end against a real
 * server with two Python SDK coordinators: the live feed certifies this device in the new
 * group's signed log by itself (as opening the group would) and stays on the same socket, so
 * the first group's alerts keep arriving live and the new group's first alert is readable.
 */
import { askToJoin, expect, openInFeed, PASSWORD, sdk, sdkCoordinatorGroup, test } from "./fixtures";

test("admitted to a second group while watching the first: the feed stays live and certifies this device there", async ({ page, server }) => {
  test.setTimeout(180_000);
  const ridge = await sdkCoordinatorGroup(server, "ridge.coord", "Operation Ridge");
  const ledge = await sdkCoordinatorGroup(server, "ledge.coord", "Operation Ledge");
  await server.enrolledUser("omar.member", PASSWORD);
  await askToJoin(page, "omar.member", ridge.opened.invitation);
  await sdk("admit", ...ridge.common, "--group", ridge.groupId);
  await openInFeed(page, "Operation Ridge");
  await expect(page.getByRole("table", { name: "Members (verified log)" })).toBeVisible();

  // The member asks to join the second group and stays on the first group's feed.
  const sockets: string[] = [];
  page.on("websocket", (ws) => sockets.push(ws.url()));
  await page.getByLabel("Invitation from your coordinator").fill(String(ledge.opened.invitation));
  await page.getByRole("button", { name: "Send the join request" }).click();
  await expect(page.getByLabel("Invitation from your coordinator")).toHaveValue("");
  await sdk("admit", ...ledge.common, "--group", ledge.groupId);

  // The feed certified the device: the second coordinator's SDK verifies it in the log.
  const devicesOf = async () => Object.values((await sdk("roster", ...ledge.common, "--group", ledge.groupId)).devices as Record<string, string[]>).map((d) => d.length);
  await expect.poll(devicesOf, { timeout: 15_000 }).toEqual([1, 1]);

  // The new group's alert is readable here (counted unread), the first group's arrives live.
  await sdk("send", ...ledge.common, "--group", ledge.groupId, "--text", "Ledge: container TGHU1234567 held");
  await expect(page.getByRole("button", { name: /Operation Ledge/ }).locator("[data-unread]")).toHaveText(/1 unread/);
  await sdk("send", ...ridge.common, "--group", ridge.groupId, "--text", "Ridge: reefer MSKU7000002 diverted");
  await expect(page.locator(".feed .item", { hasText: "Ridge: reefer MSKU7000002 diverted" })).toBeVisible();
  await expect(page.locator("[data-link]")).toHaveCount(0); // no connection banner: live throughout
  expect(sockets).toEqual([]); // the socket the admission arrived on is the one still in use

  await page.getByRole("button", { name: /Operation Ledge/ }).click();
  await expect(page.locator(".feed .item", { hasText: "Ledge: container TGHU1234567 held" })).toBeVisible();
});
