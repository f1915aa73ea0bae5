/**
 * The browser client's crypto beside the Python SDK's, same operations, same inputs, same run,
 * same machine: `npm run bench` (in clients/web; needs the repository's .venv for the Python
 * side). Prints a Markdown table (p50/p99 wall, CPU per operation, ops/s) with the primitives'
 * ceilings measured in the same run, and the machine's load before and after.
 *
 * Node's WebCrypto runs Ed25519/X25519/AES-GCM jobs on libuv's thread pool, so CPU here is
 * `process.cpuUsage()` (all threads of the process); Python's is its measuring thread's.
 */

import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "vitest";
import { concat, randomBytes } from "../src/crypto/bytes";
import { enc, label } from "../src/crypto/encoding";
import { parseEnvelope } from "../src/crypto/envelope";
import { KeystoreData, openKeystore, sealKeystore } from "../src/crypto/keystore";
import { ContentType } from "../src/crypto/labels";
import { LogEntry, LogWriter } from "../src/crypto/log";
import { aesGcmEncrypt, scrypt, sign, signingKeyFromSeed, verifyEd25519, x25519FromPrivate } from "../src/crypto/primitives";
import { ReceiverChain, SenderChain } from "../src/crypto/ratchet";
import { checkpointDue, verifyLog } from "../src/crypto/roster";
import { decryptBody, hpkeSeal, openWrap, sealBroadcast, sealTargeted, verifyEnvelope } from "../src/crypto/seal";

const REPO = new URL("../../../", import.meta.url).pathname;
const GROUP = "00000000-0000-4000-8000-0000000000be";
const SENDER = "00000000-0000-4000-8000-0000000000b1";
const RECIPIENT = "00000000-0000-4000-8000-0000000000b2";
const SIZES = [1024, 64 * 1024, 256 * 1024];
const RUNS_FOR: Record<string, number> = { "1024": 400, "65536": 200, "262144": 100 };
const LOG_RUNS = 5;
const KEYSTORE_RUNS = 5;
const id = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, "0")}`;

interface Row {
  name: string;
  runs: number;
  p50_us: number;
  p99_us: number;
  cpu_us: number;
}

async function measure(name: string, runs: number, fn: (i: number) => unknown): Promise<Row> {
  const walls: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < runs; i++) {
    const c0 = process.cpuUsage();
    const w0 = performance.now();
    await fn(i);
    walls.push((performance.now() - w0) * 1000);
    const c = process.cpuUsage(c0);
    cpu.push(c.user + c.system);
  }
  walls.sort((a, b) => a - b);
  cpu.sort((a, b) => a - b);
  return { name, runs, p50_us: walls[Math.floor(runs / 2)]!, p99_us: walls[Math.min(runs - 1, Math.floor(runs * 0.99))]!, cpu_us: cpu[Math.floor(runs / 2)]! };
}

/** 500 members with a device each, then device replacements to 10,000 entries. */
async function buildLog(withCheckpoints: boolean): Promise<{ entries: LogEntry[]; root: Uint8Array }> {
  const root = await signingKeyFromSeed(new Uint8Array(32).fill(1));
  const log = new LogWriter(GROUP);
  const ts = 1_700_000_000_000;
  await log.genesis(root, ts);
  const members: { key: Awaited<ReturnType<typeof signingKeyFromSeed>>; id: string; device: string }[] = [];
  let next = 1000;
  const cp = async () => {
    if (withCheckpoints && checkpointDue(root.publicKey, log.entries)) {
      const roster = await verifyLog(root.publicKey, GROUP, log.entries);
      await log.checkpoint(root, roster.digest(), ts);
    }
  };
  for (let m = 0; m < 500; m++) {
    const seed = new Uint8Array(32);
    seed.set([2, m >> 8, m & 255], 29);
    const key = await signingKeyFromSeed(seed);
    const member = { key, id: id(m + 1), device: id(next++) };
    members.push(member);
    await log.addMember(root, member.id, key.publicKey, m % 50 === 0 ? "coordinator" : "member", ts);
    await cp();
    await log.addDevice(key, member.id, member.device, randomBytes(32), ts);
    await cp();
  }
  // Churn: each member in turn replaces its device (revoke, then add a new one).
  for (let i = 0; log.entries.length < 10_000; i++) {
    const m = members[i % members.length]!;
    await log.append(m.key, "revoke_device", { member_id: m.id, device_id: m.device }, ts);
    await cp();
    if (log.entries.length >= 10_000) break;
    m.device = id(next++);
    await log.addDevice(m.key, m.id, m.device, randomBytes(32), ts);
    await cp();
  }
  return { entries: log.entries, root: root.publicKey };
}

test("web crypto benchmark", async () => {
  const before = loadavg();
  const dir = mkdtempSync(join(tmpdir(), "cordon-web-bench-"));
  const rows: Row[] = [];
  const key = await signingKeyFromSeed(new Uint8Array(32));
  const epoch = Uint8Array.from({ length: 32 }, (_, i) => i);
  const prekey = await x25519FromPrivate(new Uint8Array(32).fill(7));
  for (const size of SIZES) {
    const n = RUNS_FOR[String(size)]!;
    const content = randomBytes(size);
    const common = { signingKey: key, senderDeviceId: SENDER, groupId: GROUP, epochId: epoch, contentType: ContentType.MESSAGE, content, ts: 1_700_000_000_000 };
    const chain = new SenderChain(crypto.randomUUID(), SENDER, 0, new Uint8Array(32), 0, 0);
    const sealed: Uint8Array[] = [];
    rows.push(await measure(`broadcast seal ${size} B`, n, async () => sealed.push(await sealBroadcast({ ...common, chain }))));
    const receiver = new ReceiverChain(chain.chainId, SENDER, 0, new Uint8Array(32), 0, 0);
    rows.push(
      await measure(`broadcast open ${size} B`, n, async (i) => {
        const env = parseEnvelope(sealed[i]!);
        await verifyEnvelope(env, key.publicKey);
        const p = receiver.derive(env.broadcastPosition()[1]);
        await decryptBody(env, p.key, p.nonce);
        receiver.commit(p);
      }),
    );
    const targeted: Uint8Array[] = [];
    const recipients = [{ deviceId: RECIPIENT, prekeyId: 1, publicKey: prekey.publicKey }];
    rows.push(await measure(`targeted seal ${size} B, 1 recipient`, n, async () => targeted.push(await sealTargeted({ ...common, recipients }))));
    rows.push(
      await measure(`targeted open ${size} B, 1 recipient`, n, async (i) => {
        const env = parseEnvelope(targeted[i]!);
        await verifyEnvelope(env, key.publicKey);
        await decryptBody(env, await openWrap(env, RECIPIENT, () => prekey));
      }),
    );
    const body = randomBytes(size + 16);
    rows.push(await measure(`ceiling: AES-256-GCM ${size} B`, n, () => aesGcmEncrypt(new Uint8Array(32), new Uint8Array(12), body, new Uint8Array())));
  }
  const msg = randomBytes(200);
  const sig = await sign(key, msg);
  rows.push(await measure("ceiling: Ed25519 sign", 500, () => sign(key, msg)));
  rows.push(await measure("ceiling: Ed25519 verify", 500, () => verifyEd25519(key.publicKey, sig, msg)));
  rows.push(await measure("ceiling: HPKE seal 32 B", 300, () => hpkeSeal(prekey.publicKey, concat(label("x"), enc()), new Uint8Array(32))));

  const logs: Record<string, string> = {};
  let rootKey: Uint8Array = new Uint8Array();
  for (const [name, withCp] of [["log_cp", true], ["log_plain", false]] as const) {
    const { entries, root } = await buildLog(withCp);
    rootKey = root;
    const text = JSON.stringify(entries.map((e) => e.toJson()));
    logs[name] = join(dir, `${name}.json`);
    writeFileSync(logs[name]!, text);
    const label_ = withCp ? "root checkpoints every 1,000" : "no checkpoint";
    rows.push(
      await measure(`log: parse + verify 10,000 entries, ${label_}`, LOG_RUNS, async () => {
        const parsed = (JSON.parse(text) as unknown[]).map((e) => LogEntry.fromJson(e));
        await verifyLog(root, GROUP, parsed);
      }),
    );
    rows.push(await measure(`log part: parse only (JSON + fromJson), ${label_}`, LOG_RUNS, () => (JSON.parse(text) as unknown[]).map((e) => LogEntry.fromJson(e))));
    const copies = Array.from({ length: LOG_RUNS }, () => (JSON.parse(text) as unknown[]).map((e) => LogEntry.fromJson(e)));
    rows.push(await measure(`log part: verifyLog only, ${label_}`, LOG_RUNS, (i) => verifyLog(root, GROUP, copies[i]!)));
    if (!withCp) {
      const signed = entries.map((e) => [e.signer, e.sig, e.signedBytes()] as const);
      rows.push(await measure("ceiling: 10,000 × Ed25519 verify, all started at once", LOG_RUNS, () => Promise.all(signed.map(([k, sg, m]) => verifyEd25519(k, sg, m)))));
    }
  }
  const ks = await KeystoreData.create(SENDER, true);
  await ks.rotatePrekeys(1_700_000_000_000);
  ks.secrets.set("session", randomBytes(20_000));
  const keystorePath = join(dir, "bench.keystore");
  const keystoreText = await sealKeystore(ks, "a passphrase", 2 ** 15);
  writeFileSync(keystorePath, keystoreText, { mode: 0o600 });
  rows.push(await measure("keystore open (scrypt n=2^15 + AES-GCM)", KEYSTORE_RUNS, () => openKeystore(keystoreText, "a passphrase")));
  rows.push(await measure("ceiling: scrypt n=2^15, r=8, p=1", KEYSTORE_RUNS, () => scrypt(new TextEncoder().encode("x"), new Uint8Array(16), 2 ** 15, 8, 1)));
  const middle = loadavg();

  const py = spawnSync(join(REPO, ".venv/bin/python"), [join(REPO, "clients/web/bench/python_side.py")], {
    input: JSON.stringify({ sizes: SIZES, runs_for: RUNS_FOR, log_cp: logs.log_cp, log_plain: logs.log_plain, root_key: Buffer.from(rootKey).toString("hex"), log_runs: LOG_RUNS, keystore: keystorePath, passphrase: "a passphrase", keystore_runs: KEYSTORE_RUNS }),
    encoding: "utf8",
    maxBuffer: 1 << 24,
  });
  if (py.status !== 0) throw new Error(py.stderr);
  const pyRows = new Map((JSON.parse(py.stdout) as Row[]).map((r) => [r.name, r]));
  const after = loadavg();
  rmSync(dir, { recursive: true, force: true });

  const f = (us: number) => (us >= 10_000 ? `${(us / 1000).toFixed(0)} ms` : us >= 1000 ? `${(us / 1000).toFixed(1)} ms` : `${us.toFixed(1)} µs`);
  const lines = [
    `Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model}; load average (1/5/15 min) before ${before.map((x) => x.toFixed(1)).join("/")}, after the Node part ${middle.map((x) => x.toFixed(1)).join("/")}, after Python ${after.map((x) => x.toFixed(1)).join("/")}`,
    "",
    "| operation | runs | Node p50 | Node p99 | Node CPU/op | Node ops/s | Python p50 | Python p99 | Python CPU/op | Python ops/s |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const r of rows) {
    const p = pyRows.get(r.name);
    lines.push(`| ${r.name} | ${r.runs} | ${f(r.p50_us)} | ${f(r.p99_us)} | ${f(r.cpu_us)} | ${Math.round(1e6 / r.p50_us).toLocaleString("en")} | ${p ? f(p.p50_us) : "–"} | ${p ? f(p.p99_us) : "–"} | ${p ? f(p.cpu_us) : "–"} | ${p ? Math.round(1e6 / p.p50_us).toLocaleString("en") : "–"} |`);
  }
  console.log(lines.join("\n"));
});
