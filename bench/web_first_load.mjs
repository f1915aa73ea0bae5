#!/usr/bin/env node
/**
 * The browser client's app shell: its gzipped size against the 250 KB budget, and the time
 * from navigation start to an interactive login screen (<= 1 s budget) in Debian's Chromium,
 * on loopback, against a real `cordon-server serve` on a scratch SQLite database.
 *
 * Usage (after scripts/bootstrap.sh and scripts/build_web.sh):
 *     node bench/web_first_load.mjs [--runs 30] [--port 8242]
 *
 * "Interactive" is the `cordon:login-interactive` performance mark the login screen sets once
 * mounted (its form is rendered and its handlers attached). Cold: a fresh browser context per
 * run (no HTTP cache, no service worker). Warm: reloads in one context (HTTP cache and the
 * shell's service worker). Ceiling, measured in the same run: the same navigation to a static
 * file of the same server (`/icon.svg`, no script): what a load costs before any of ours runs.
 */
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const WEB = path.join(ROOT, "clients", "web");
const DIST = path.join(WEB, "dist");
const require = createRequire(path.join(WEB, "package.json"));
const { chromium } = require("@playwright/test");

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};
const RUNS = option("runs", 30);
const PORT = option("port", 8242);
const BASE = `http://127.0.0.1:${PORT}`;

function quantile(values, q) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

function line(label, values) {
  const total = values.reduce((a, b) => a + b, 0) / 1000;
  console.log(
    `${label.padEnd(38)} p50 ${quantile(values, 0.5).toFixed(1).padStart(7)} ms   p99 ${quantile(values, 0.99)
      .toFixed(1)
      .padStart(7)} ms   ${(values.length / total).toFixed(1)} loads/s`,
  );
}

function shellSize() {
  const gz = (file) => gzipSync(readFileSync(file), { level: 9 }).length;
  const assets = readdirSync(path.join(DIST, "assets")).map((name) => path.join(DIST, "assets", name));
  const js = assets.filter((f) => f.endsWith(".js"));
  const css = assets.filter((f) => f.endsWith(".css"));
  const sum = (files, size) => files.reduce((total, f) => total + size(f), 0);
  const raw = (f) => readFileSync(f).length;
  const index = path.join(DIST, "index.html");
  console.log(`app shell JavaScript: ${(sum(js, gz) / 1024).toFixed(1)} KB gzipped (${(sum(js, raw) / 1024).toFixed(1)} KB raw, ${js.length} file(s)); budget 250 KB`);
  console.log(`app shell CSS: ${(sum(css, gz) / 1024).toFixed(1)} KB gzipped; index.html ${(gz(index) / 1024).toFixed(1)} KB gzipped`);
}

async function startServer() {
  const bin = path.join(ROOT, ".venv", "bin", "cordon-server");
  const dir = mkdtempSync(path.join(tmpdir(), "cordon-web-bench-"));
  const env = {
    ...process.env,
    CORDON_ENVIRONMENT: "test",
    CORDON_DATABASE_URL: `sqlite+aiosqlite:///${path.join(dir, "bench.db")}`,
    CORDON_SECRET_KEY: "web-bench-secret-0123456789abcdef0123456789",
    CORDON_SEED_DEMO: "false",
    CORDON_BLOB_DIR: path.join(dir, "blobs"),
    CORDON_WEB_DIST_DIR: DIST,
    CORDON_LOG_LEVEL: "WARNING",
  };
  delete env.CORDON_REDIS_URL;
  execFileSync(bin, ["migrate"], { env, cwd: dir, stdio: "ignore" });
  const child = spawn(bin, ["serve", "--host", "127.0.0.1", "--port", String(PORT)], { env, cwd: dir, stdio: "ignore" });
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`${BASE}/healthz`)).ok) return { child, dir };
    } catch {
      // not yet listening
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill();
  throw new Error("cordon-server did not start");
}

const interactive = () =>
  new Promise((resolve) => {
    const seen = () => performance.getEntriesByName("cordon:login-interactive")[0];
    const poll = () => (seen() ? resolve(seen().startTime) : requestAnimationFrame(poll));
    poll();
  });

async function main() {
  shellSize();
  const { child, dir } = await startServer();
  const browser = await chromium.launch({
    executablePath: process.env.CORDON_CHROMIUM ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  try {
    const ceiling = [];
    const cold = [];
    const coldDcl = [];
    for (let i = 0; i < RUNS + 2; i++) {
      const context = await browser.newContext({ serviceWorkers: "block" });
      const page = await context.newPage();
      await page.goto(`${BASE}/icon.svg`);
      const floor = await page.evaluate(() => performance.getEntriesByType("navigation")[0].loadEventEnd);
      await page.close();
      const app = await context.newPage();
      await app.goto(`${BASE}/login`, { waitUntil: "commit" });
      const ready = await app.evaluate(interactive);
      await app.getByLabel("Username").waitFor();
      const dcl = await app.evaluate(() => performance.getEntriesByType("navigation")[0].domContentLoadedEventEnd);
      await context.close();
      if (i < 2) continue; // warm-up: the server's and Chromium's first requests
      ceiling.push(floor);
      cold.push(ready);
      coldDcl.push(dcl);
    }
    const warm = [];
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${BASE}/login`);
    await page.evaluate(() => navigator.serviceWorker.ready);
    for (let i = 0; i < RUNS + 2; i++) {
      await page.goto(`${BASE}/login`, { waitUntil: "commit" });
      const ready = await page.evaluate(interactive);
      if (i >= 2) warm.push(ready);
    }
    await context.close();
    console.log(`Chromium ${browser.version()}, ${RUNS} runs each, loopback, load averages ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
    line("ceiling: static file navigation", ceiling);
    line("cold: DOMContentLoaded", coldDcl);
    line("cold: login interactive", cold);
    line("warm (cache + service worker): login", warm);
    const p99 = quantile(cold, 0.99);
    console.log(`budget: cold login interactive p99 ${p99.toFixed(1)} ms <= 1000 ms: ${p99 <= 1000 ? "met" : "MISSED"}`);
  } finally {
    await browser.close();
    child.kill("SIGTERM");
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
