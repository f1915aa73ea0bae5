/**
 * The feed's speed in Chromium against a real server (docs/benchmarks-web.md, "Feed"):
 * 1. after login, a backlog of N alerts stored on the server: unlock → every item fetched over
 *    the websocket, verified, decrypted, committed, and the newest on screen;
 * 2. once the socket is quiet (its own receipts streamed back and handled), a reload with
 *    those N items kept in this browser (sealed in IndexedDB): unlock → all decrypted from
 *    IndexedDB and the feed rendered;
 * 3. live pushes: frame arrival → the item painted, measured inside the page
 *    (`performance.measure("cordon:frame-to-paint")`, set by src/feed).
 * CORDON_BENCH_ITEMS (default 10000) and CORDON_BENCH_PUSHES (default 40) size it.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import type { Page } from "@playwright/test";
import { expect, PASSWORD, test } from "../tests/browser/fixtures";
import { REPO_ROOT, WEB_ROOT } from "../tests/browser/server";

const run = promisify(execFile);
const PYTHON = path.join(REPO_ROOT, ".venv/bin/python");
const HELPER = path.join(WEB_ROOT, "tests/browser/sdk_member.py");
const KEY_PASSPHRASE = "browser keystore passphrase";
const ITEMS = Number(process.env.CORDON_BENCH_ITEMS ?? 10_000);
const PUSHES = Number(process.env.CORDON_BENCH_PUSHES ?? 40);
/** A directory: each stage's Chromium CPU profile is written there (`bench/cpuprofile_top.mjs` sums it). */
const PROFILE_DIR = process.env.CORDON_BENCH_PROFILE;

/** Run `work` under the page's CPU profiler when CORDON_BENCH_PROFILE is set. */
async function profiled<T>(page: Page, name: string, work: () => Promise<T>): Promise<T> {
  if (!PROFILE_DIR) return work();
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Profiler.enable");
  await cdp.send("Profiler.setSamplingInterval", { interval: 500 });
  await cdp.send("Profiler.start");
  const result = await work();
  const { profile } = await cdp.send("Profiler.stop");
  writeFileSync(path.join(PROFILE_DIR, `${name}.cpuprofile`), JSON.stringify(profile));
  await cdp.detach();
  return result;
}

async function sdk(step: string, ...args: string[]): Promise<Record<string, unknown>> {
  const { stdout } = await run(PYTHON, [HELPER, step, ...args], { timeout: 1_200_000, maxBuffer: 1 << 26 });
  return JSON.parse(stdout.trim().split("\n").at(-1)!) as Record<string, unknown>;
}

async function logIn(page: Page): Promise<void> {
  await page.goto("/login");
  await page.getByLabel("Username").fill("bench.member");
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByRole("heading", { name: "Groups" })).toBeVisible();
  await page.getByRole("link", { name: "Alerts" }).click();
}

/** ms from the Unlock click to the item at `seq` painted, the page's own clock, and the
 * stages on the way (stored items opened, socket ready, backlog caught up), from the click. */
async function unlockUntil(page: Page, seq: number, name: string): Promise<Record<string, number | string>> {
  await logIn(page);
  await page.getByLabel("Passphrase", { exact: true }).fill(KEY_PASSPHRASE);
  const t0 = await page.evaluate(() => performance.now());
  await profiled(page, name, async () => {
    await page.getByRole("button", { name: "Unlock" }).click();
    await page.getByRole("button", { name: /Operation Bench/ }).click();
    await page.locator(`.feed .item[data-seq="${seq}"]`).waitFor();
    await expect(page.locator("[data-link]")).toHaveCount(0);
  });
  const t1 = await page.evaluate(() => new Promise<number>((resolve) => requestAnimationFrame(() => setTimeout(() => resolve(performance.now()), 0))));
  const stage = (name: string) => page.evaluate((n) => performance.getEntriesByName(n, "mark").at(-1)?.startTime ?? NaN, name);
  return {
    total: Math.round(t1 - t0),
    stored_items_opened: Math.round((await stage("cordon:feed-loaded")) - t0),
    socket_ready: Math.round((await stage("cordon:ready")) - t0),
    caught_up: Math.round((await stage("cordon:caught-up")) - t0),
    closes: (await page.evaluate(() => performance.getEntriesByType("mark").filter((m) => m.name.startsWith("cordon:closed:")).map((m) => m.name.slice(14)).join(","))),
  };
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

test("feed speed in Chromium", async ({ page, server }) => {
  const home = mkdtempSync(path.join(tmpdir(), "cordon-bench-"));
  const common = ["--server", server.base, "--home", home];
  const code = await server.createUser("bench.coord");
  await sdk("enrol", ...common, "--code", code, "--username", "bench.coord");
  const groupId = /group ([0-9a-f-]{36})/.exec(await server.admin("create-group", "Operation Bench", "--coordinator", "bench.coord"))![1]!;
  const invitation = String((await sdk("open", ...common, "--group", groupId)).invitation);
  await server.enrolledUser("bench.member", PASSWORD);
  await logIn(page);
  await page.getByLabel("Passphrase", { exact: true }).fill(KEY_PASSPHRASE);
  await page.getByLabel("Passphrase again").fill(KEY_PASSPHRASE);
  await page.getByRole("button", { name: "Protect the keys" }).click();
  await page.getByLabel("Invitation from your coordinator").fill(invitation);
  await page.getByRole("button", { name: "Send the join request" }).click();
  await expect(page.getByLabel("Invitation from your coordinator")).toHaveValue("");
  await sdk("admit", ...common, "--group", groupId);
  await page.getByRole("link", { name: "Sessions" }).click();
  await page.getByRole("link", { name: "Alerts" }).click();
  await page.getByRole("button", { name: /Operation Bench/ }).click();
  await expect(page.getByRole("table", { name: "Members (verified log)" })).toBeVisible();
  await expect(page.locator("[data-link]")).toHaveCount(0);

  // 1. A backlog stored on the server while the browser is away.
  await page.goto("/sessions");
  const load0 = loadavg()[0]!;
  const sent = await sdk("send-many", ...common, "--group", groupId, "--text", "Backlog alert", "--count", String(ITEMS));
  const last = Number(sent.last);
  await page.reload();
  const backlogMs = await unlockUntil(page, last, "backlog");
  // The delivered receipts this browser sent come back to it as `receipt` items (readable by
  // their sender's user): wait until the socket has had nothing to commit for 2 s, so that the
  // stored run below measures the stored items, and report how long that took.
  const echoSettledMs = await page.evaluate(async () => {
    const t0 = performance.now();
    let commits = -1;
    let quietSince = t0;
    while (performance.now() - quietSince < 2000) {
      const n = performance.getEntriesByName("cordon:commit").length;
      if (n !== commits) [commits, quietSince] = [n, performance.now()];
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return Math.round(quietSince - t0);
  });

  // 2. The same items, now kept in this browser: reload, unlock, decrypt from IndexedDB, render.
  await page.reload();
  const storedMs = await unlockUntil(page, last, "stored");
  const domItems = await page.locator(".feed .item").count();

  // 3. Live pushes, measured in the page from frame arrival to paint.
  await page.evaluate(() => {
    performance.clearMeasures("cordon:frame-to-paint");
    performance.clearMeasures("cordon:frame-to-handled");
    performance.clearMeasures("cordon:commit");
  });
  await profiled(page, "pushes", async () => {
    await sdk("send-spaced", ...common, "--group", groupId, "--text", "Live alert", "--count", String(PUSHES), "--gap-ms", "250");
    await expect.poll(() => page.evaluate(() => performance.getEntriesByName("cordon:frame-to-paint").length)).toBe(PUSHES);
  });
  const pushes = await page.evaluate(() => performance.getEntriesByName("cordon:frame-to-paint").map((e) => e.duration));
  const handled = await page.evaluate(() => performance.getEntriesByName("cordon:frame-to-handled").map((e) => e.duration));
  const commits = await page.evaluate(() => performance.getEntriesByName("cordon:commit").map((e) => e.duration));
  // The ceiling beside it: from a task to the next paint in this page, nothing else to do.
  const frames: number[] = [];
  for (let i = 0; i < 20; i++) frames.push(await page.evaluate(() => new Promise<number>((resolve) => { const t = performance.now(); requestAnimationFrame(() => setTimeout(() => resolve(performance.now() - t), 0)); })));
  const load1 = loadavg()[0]!;

  const result = {
    items: ITEMS,
    backlog_unlock_to_rendered_ms: backlogMs,
    backlog_painted_to_socket_quiet_ms: echoSettledMs,
    stored_unlock_to_rendered_ms: storedMs,
    rows_in_dom: domItems,
    pushes: PUSHES,
    push_frame_to_paint_ms: { p50: pct(pushes, 50), p99: pct(pushes, 99), max: Math.max(...pushes) },
    ceiling_task_to_paint_ms: { p50: pct(frames, 50), p99: pct(frames, 99) },
    live_commit_ms: { p50: pct(commits, 50), p99: pct(commits, 99), n: commits.length },
    push_frame_to_handled_ms: { p50: pct(handled, 50), p99: pct(handled, 99) },
    load_before: load0,
    load_after: load1,
  };
  console.log(`FEED-BENCH ${JSON.stringify(result)}`);
});
