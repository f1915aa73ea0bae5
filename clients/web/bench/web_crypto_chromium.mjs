// The browser client's crypto measured in Chromium (Debian's /usr/bin/chromium, driven by
// Playwright): `node bench/web_crypto_chromium.mjs [port]` in clients/web. Bundles
// bench/browser_entry.ts with Vite, serves it on 127.0.0.1 (a secure context, so WebCrypto is
// there), runs the same operations as the Node benchmark (bench/ops.ts) in the page and prints
// a Markdown table. A page has no CPU clock: wall time only.

import { createServer } from "node:http";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "@playwright/test";
import { build } from "vite";

const here = new URL(".", import.meta.url).pathname;
const port = Number(process.argv[2] ?? 8231);
const out = mkdtempSync(join(tmpdir(), "cordon-web-chromium-bench-"));
await build({
  configFile: false,
  logLevel: "warn",
  build: { outDir: out, emptyOutDir: true, minify: true, lib: { entry: join(here, process.env.CORDON_BENCH_ENTRY ?? "browser_entry.ts"), formats: ["iife"], name: "cordonBenchBundle", fileName: () => "bench.js" } },
});
const script = readFileSync(join(out, "bench.js"));
// Cross-origin isolation lifts Chromium's 100 µs clamp on performance.now() to 5 µs.
const isolated = { "cross-origin-opener-policy": "same-origin", "cross-origin-embedder-policy": "require-corp", "cross-origin-resource-policy": "same-origin" };
const server = createServer((req, res) => {
  if (req.url === "/bench.js") {
    res.writeHead(200, { "content-type": "text/javascript", ...isolated });
    res.end(script);
  } else {
    res.writeHead(200, { "content-type": "text/html", ...isolated });
    res.end('<!doctype html><meta charset="utf-8"><title>bench</title><script src="/bench.js"></script>');
  }
});
await new Promise((resolve) => server.listen(port, "127.0.0.1", resolve));
const before = loadavg();
const browser = await chromium.launch({
  executablePath: process.env.CORDON_CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${port}/`);
  const version = browser.version();
  const isolatedPage = await page.evaluate(() => globalThis.crossOriginIsolated);
  page.setDefaultTimeout(0);
  const rows = await page.evaluate(() => globalThis.cordonBench());
  const after = loadavg();
  const fmt = (us) => (us >= 10_000 ? `${(us / 1000).toFixed(0)} ms` : us >= 1000 ? `${(us / 1000).toFixed(1)} ms` : `${us.toFixed(1)} µs`);
  console.log(`Chromium ${version} (cross-origin isolated: ${isolatedPage}); load average (1/5/15 min) before ${before.map((x) => x.toFixed(1)).join("/")}, after ${after.map((x) => x.toFixed(1)).join("/")}\n`);
  console.log("| operation | runs | Chromium p50 | Chromium p99 | Chromium ops/s |\n|---|---:|---:|---:|---:|");
  for (const r of rows) console.log(`| ${r.name} | ${r.runs} | ${fmt(r.p50_us)} | ${fmt(r.p99_us)} | ${Math.round(1e6 / r.p50_us).toLocaleString("en")} |`);
} finally {
  await browser.close();
  server.close();
  rmSync(out, { recursive: true, force: true });
}
