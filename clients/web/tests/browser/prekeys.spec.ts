/**
 * One-time prekeys of a browser device (PROTOCOL §3.2), end to end against a real server and
 * the Python SDK: the browser publishes a batch when its keys are set up, an SDK sender claims
 * one and seals the browser's wrap to it, the browser opens it; the browser claims the SDK
 * device's one-time prekey when it sends; a stock drained below the refill threshold is topped
 * up with new, higher ids at the next unlock.
 */
import { askToJoin, expect, KEY_PASSPHRASE, logIn, openInFeed, PASSWORD, sdk, sdkCoordinatorGroup, test } from "./fixtures";

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

test("an SDK sender claims a browser device's one-time prekey and the browser opens what was sealed to it (and the other way); the stock is refilled", async ({ page, server }) => {
  test.setTimeout(180_000);
  const { common, coord, groupId, opened } = await sdkCoordinatorGroup(server, "ola.coord", "Operation Tide");
  await server.enrolledUser("otto.prekeys", PASSWORD);
  await askToJoin(page, "otto.prekeys", opened.invitation);
  await sdk("admit", ...common, "--group", groupId);
  await openInFeed(page, "Operation Tide");
  await expect(page.getByTestId("fingerprint")).toHaveText(String(opened.fingerprint));
  const devices = (await sdk("roster", ...common, "--group", groupId)).devices as Record<string, string[]>;
  const browserId = Object.entries(devices).find(([member]) => member !== String(coord.user_id))![1][0]!;
  const stock = async () => (await sdk("one-time-stock", "--database", server.database, "--id", browserId)).ids as number[];

  // Set up with its keys: a batch of 100, ids from 1, each signed by the device (the server
  // checked the signatures on upload).
  expect(await stock()).toEqual(range(1, 100));

  // The SDK's chain distribution to the browser claims the lowest one and seals to it…
  const sent = await sdk("send", ...common, "--group", groupId, "--text", "Tanker NORDIC 3 diverted");
  const items = (await sdk("recipients", "--database", server.database, "--group", groupId, "--seq", "0")).items as { seq: number; kind: string; recipients: string[] | null }[];
  const distribution = items.find((i) => i.kind === "sender_key" && i.seq < Number(sent.seq) && (i.recipients ?? []).includes(browserId))!;
  const wraps = (await sdk("wraps", "--database", server.database, "--group", groupId, "--seq", String(distribution.seq), "--json", browserId)).wraps as Record<string, [number, number]>;
  expect(wraps[browserId]).toEqual([2, 1]); // prekey type 2: one-time, id 1
  expect(await stock()).toEqual(range(2, 100)); // served once: the claim deleted it
  // …and the browser opens it: without that private half the chain (and the alert) is lost.
  await expect(page.locator(".feed .item", { hasText: "Tanker NORDIC 3 diverted" })).toBeVisible();

  // The other way: the browser claims the SDK device's one-time prekey for its own chain.
  const coordDevice = devices[String(coord.user_id)]![0]!;
  await page.getByLabel("Alert", { exact: true }).fill("Pilot boarded NORDIC 3");
  await page.getByRole("button", { name: "Send alert" }).click();
  await expect(page.locator(".feed .item", { hasText: "Pilot boarded NORDIC 3" })).toBeVisible();
  const fromBrowser = ((await sdk("recipients", "--database", server.database, "--group", groupId, "--seq", String(sent.seq))).items as { seq: number; kind: string; sender: string | null }[]).find((i) => i.kind === "sender_key" && i.sender === browserId)!;
  const toCoord = (await sdk("wraps", "--database", server.database, "--group", groupId, "--seq", String(fromBrowser.seq), "--json", coordDevice)).wraps as Record<string, [number, number]>;
  expect(toCoord[coordDevice]![0]).toBe(2); // one-time
  const got = (await sdk("receive", ...common)).items as { text: string | null; verified: boolean }[];
  expect(got).toContainEqual(expect.objectContaining({ text: "Pilot boarded NORDIC 3", verified: true }));

  // Senders drain the stock below the refill threshold (25); the next unlock tops it up with
  // a batch whose ids continue where the last ended.
  expect((await sdk("drain", ...common, "--group", groupId, "--id", browserId, "--count", "75")).claimed).toBe(75);
  expect(await stock()).toEqual(range(77, 100));
  await page.reload();
  await logIn(page, "otto.prekeys");
  await page.getByRole("link", { name: "Alerts" }).click();
  await page.getByLabel("Passphrase", { exact: true }).fill(KEY_PASSPHRASE);
  await page.getByRole("button", { name: "Unlock" }).click();
  await page.getByRole("button", { name: "Operation Tide" }).click();
  await expect.poll(stock).toEqual([...range(77, 100), ...range(101, 200)]);
  await expect(page.locator(".feed .item", { hasText: "Tanker NORDIC 3 diverted" })).toHaveCount(1);
});
