/**
 * The browser client's crypto in Node beside the Python SDK's: same operations, same inputs,
 * same run, same machine. `npm run bench` in clients/web (needs the repository's .venv).
 * The same operations in Chromium: `node bench/web_crypto_chromium.mjs` (see there).
 *
 * Node's WebCrypto runs Ed25519/X25519/AES-GCM jobs on libuv's thread pool, so CPU here is
 * `process.cpuUsage()` (all threads of the process); Python's is its measuring thread's.
 */

import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "vitest";
import { KEYSTORE_RUNS, LOG_RUNS, PASSPHRASE, type Row, RUNS_FOR, runOps, SIZES, table } from "./ops";

const REPO = new URL("../../../", import.meta.url).pathname;

test("web crypto benchmark", async () => {
  const before = loadavg();
  const dir = mkdtempSync(join(tmpdir(), "cordon-web-bench-"));
  const out = await runOps(() => {
    const c = process.cpuUsage();
    return c.user + c.system;
  });
  const middle = loadavg();
  const paths = { log_cp: join(dir, "log_cp.json"), log_plain: join(dir, "log_plain.json"), keystore: join(dir, "bench.keystore") };
  writeFileSync(paths.log_cp, out.logs.log_cp);
  writeFileSync(paths.log_plain, out.logs.log_plain);
  writeFileSync(paths.keystore, out.keystoreText, { mode: 0o600 });
  const py = spawnSync(join(REPO, ".venv/bin/python"), [join(REPO, "clients/web/bench/python_side.py")], {
    input: JSON.stringify({ sizes: SIZES, runs_for: RUNS_FOR, ...paths, root_key: Buffer.from(out.logs.root).toString("hex"), log_runs: LOG_RUNS, keystore_runs: KEYSTORE_RUNS, passphrase: PASSPHRASE }),
    encoding: "utf8",
    maxBuffer: 1 << 24,
  });
  if (py.status !== 0) throw new Error(py.stderr);
  const after = loadavg();
  rmSync(dir, { recursive: true, force: true });
  const load = (l: number[]) => l.map((x) => x.toFixed(1)).join("/");
  console.log(`Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model}; load average (1/5/15 min) before ${load(before)}, after the Node part ${load(middle)}, after Python ${load(after)}\n`);
  console.log(table([["Node", new Map(out.rows.map((r) => [r.name, r]))], ["Python", new Map((JSON.parse(py.stdout) as Row[]).map((r) => [r.name, r]))]]));
});
