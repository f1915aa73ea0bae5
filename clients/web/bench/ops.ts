/**
 * The operations the crypto benchmark measures, shared by the Node runner
 * (web_crypto_bench.ts, beside the Python SDK) and the Chromium runner (web_crypto_chromium.mjs).
 * No Node APIs here: it runs in a page as well.
 */

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

export const GROUP = "00000000-0000-4000-8000-0000000000be";
const SENDER = "00000000-0000-4000-8000-0000000000b1";
const RECIPIENT = "00000000-0000-4000-8000-0000000000b2";
export const SIZES = [1024, 64 * 1024, 256 * 1024];
export const RUNS_FOR: Record<string, number> = { "1024": 400, "65536": 200, "262144": 100 };
export const LOG_RUNS = 5;
export const KEYSTORE_RUNS = 5;
export const PASSPHRASE = "a passphrase";
const id = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, "0")}`;

export interface Row {
  name: string;
  runs: number;
  p50_us: number;
  p99_us: number;
  cpu_us: number | null;
}

/** CPU time of the process in µs, where the platform has it (Node), else null (a page). */
export type CpuClock = () => number | null;

async function measure(cpu: CpuClock, name: string, runs: number, fn: (i: number) => unknown): Promise<Row> {
  const walls: number[] = [];
  const cpus: number[] = [];
  for (let i = 0; i < runs; i++) {
    const c0 = cpu();
    const w0 = performance.now();
    await fn(i);
    walls.push((performance.now() - w0) * 1000);
    const c1 = cpu();
    if (c0 !== null && c1 !== null) cpus.push(c1 - c0);
  }
  walls.sort((a, b) => a - b);
  cpus.sort((a, b) => a - b);
  return { name, runs, p50_us: walls[Math.floor(runs / 2)]!, p99_us: walls[Math.min(runs - 1, Math.floor(runs * 0.99))]!, cpu_us: cpus.length ? cpus[Math.floor(runs / 2)]! : null };
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

export interface Outcome {
  rows: Row[];
  /** The served JSON of both logs and the root key, for the Python side. */
  logs: { log_cp: string; log_plain: string; root: Uint8Array };
  keystoreText: string;
}

export async function runOps(cpu: CpuClock): Promise<Outcome> {
  const rows: Row[] = [];
  const m = (name: string, runs: number, fn: (i: number) => unknown) => measure(cpu, name, runs, fn);
  const key = await signingKeyFromSeed(new Uint8Array(32));
  const epoch = Uint8Array.from({ length: 32 }, (_, i) => i);
  const prekey = await x25519FromPrivate(new Uint8Array(32).fill(7));
  for (const size of SIZES) {
    const n = RUNS_FOR[String(size)]!;
    const content = randomBytes(size);
    const common = { signingKey: key, senderDeviceId: SENDER, groupId: GROUP, epochId: epoch, contentType: ContentType.MESSAGE, content, ts: 1_700_000_000_000 };
    const chain = new SenderChain(crypto.randomUUID(), SENDER, 0, new Uint8Array(32), 0, 0);
    const sealed: Uint8Array[] = [];
    rows.push(await m(`broadcast seal ${size} B`, n, async () => sealed.push(await sealBroadcast({ ...common, chain }))));
    const receiver = new ReceiverChain(chain.chainId, SENDER, 0, new Uint8Array(32), 0, 0);
    rows.push(
      await m(`broadcast open ${size} B`, n, async (i) => {
        const env = parseEnvelope(sealed[i]!);
        await verifyEnvelope(env, key.publicKey);
        const p = receiver.derive(env.broadcastPosition()[1]);
        await decryptBody(env, p.key, p.nonce);
        receiver.commit(p);
      }),
    );
    const targeted: Uint8Array[] = [];
    const recipients = [{ deviceId: RECIPIENT, prekeyId: 1, publicKey: prekey.publicKey }];
    rows.push(await m(`targeted seal ${size} B, 1 recipient`, n, async () => targeted.push(await sealTargeted({ ...common, recipients }))));
    rows.push(
      await m(`targeted open ${size} B, 1 recipient`, n, async (i) => {
        const env = parseEnvelope(targeted[i]!);
        await verifyEnvelope(env, key.publicKey);
        await decryptBody(env, await openWrap(env, RECIPIENT, () => prekey));
      }),
    );
    const body = randomBytes(size + 16);
    rows.push(await m(`ceiling: AES-256-GCM ${size} B`, n, () => aesGcmEncrypt(new Uint8Array(32), new Uint8Array(12), body, new Uint8Array())));
  }
  const msg = randomBytes(200);
  const sig = await sign(key, msg);
  rows.push(await m("ceiling: Ed25519 sign", 500, () => sign(key, msg)));
  rows.push(await m("ceiling: Ed25519 verify", 500, () => verifyEd25519(key.publicKey, sig, msg)));
  rows.push(await m("ceiling: HPKE seal 32 B", 300, () => hpkeSeal(prekey.publicKey, concat(label("x"), enc()), new Uint8Array(32))));

  const texts: Record<string, string> = {};
  let rootKey: Uint8Array = new Uint8Array();
  for (const [name, withCp] of [["log_cp", true], ["log_plain", false]] as const) {
    const { entries, root } = await buildLog(withCp);
    rootKey = root;
    const text = JSON.stringify(entries.map((e) => e.toJson()));
    texts[name] = text;
    const label_ = withCp ? "root checkpoints every 1,000" : "no checkpoint";
    const parse = () => (JSON.parse(text) as unknown[]).map((e) => LogEntry.fromJson(e));
    rows.push(await m(`log: parse + verify 10,000 entries, ${label_}`, LOG_RUNS, () => verifyLog(root, GROUP, parse())));
    rows.push(await m(`log part: parse only (JSON + fromJson), ${label_}`, LOG_RUNS, parse));
    const copies = Array.from({ length: LOG_RUNS }, parse);
    rows.push(await m(`log part: verifyLog only, ${label_}`, LOG_RUNS, (i) => verifyLog(root, GROUP, copies[i]!)));
    if (!withCp) {
      const signed = entries.map((e) => [e.signer, e.sig, e.signedBytes()] as const);
      rows.push(await m("ceiling: 10,000 × Ed25519 verify, all started at once", LOG_RUNS, () => Promise.all(signed.map(([k, sg, msg_]) => verifyEd25519(k, sg, msg_)))));
    }
  }
  const ks = await KeystoreData.create(SENDER, true);
  await ks.rotatePrekeys(1_700_000_000_000);
  ks.secrets.set("session", randomBytes(20_000));
  const keystoreText = await sealKeystore(ks, PASSPHRASE, 2 ** 15);
  rows.push(await m("keystore open (scrypt n=2^15 + AES-GCM)", KEYSTORE_RUNS, () => openKeystore(keystoreText, PASSPHRASE)));
  rows.push(await m("ceiling: scrypt n=2^15, r=8, p=1", KEYSTORE_RUNS, () => scrypt(new TextEncoder().encode("x"), new Uint8Array(16), 2 ** 15, 8, 1)));
  return { rows, logs: { log_cp: texts.log_cp!, log_plain: texts.log_plain!, root: rootKey }, keystoreText };
}

const f = (us: number | null) => (us === null ? "–" : us >= 10_000 ? `${(us / 1000).toFixed(0)} ms` : us >= 1000 ? `${(us / 1000).toFixed(1)} ms` : `${us.toFixed(1)} µs`);

/** A Markdown table of named columns of rows (first set decides the row order). */
export function table(columns: [string, Map<string, Row>][]): string {
  const head = ["operation", "runs", ...columns.flatMap(([c]) => [`${c} p50`, `${c} p99`, `${c} CPU/op`, `${c} ops/s`])];
  const lines = [`| ${head.join(" | ")} |`, `|---|${head.slice(1).map(() => "---:").join("|")}|`];
  for (const r of columns[0]![1].values()) {
    const cells = columns.flatMap(([, rows]) => {
      const x = rows.get(r.name);
      return x ? [f(x.p50_us), f(x.p99_us), f(x.cpu_us), Math.round(1e6 / x.p50_us).toLocaleString("en")] : ["–", "–", "–", "–"];
    });
    lines.push(`| ${r.name} | ${r.runs} | ${cells.join(" | ")} |`);
  }
  return lines.join("\n");
}
