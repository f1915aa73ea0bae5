/**
 * The pre-notification operations (src/prenotifications/engine.ts) beside the Python SDK's
 * (`prenotifications/operations.py`), on the shared records layer: the content a send seals
 * (routing repeated inside) byte for byte, who acts in which capacity and who a discrepancy's
 * findings are sealed to, the overdue rule, and status events refused when forged or tampered.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { toHex } from "../../src/crypto/bytes";
import { LogWriter } from "../../src/crypto/log";
import { newSigningKey, signingKeyFromSeed } from "../../src/crypto/primitives";
import { verifyLog } from "../../src/crypto/roster";
import { capacities, detailParties, DISCREPANCY_TEMPLATE, movesFor, type PnRecord, PN_TEMPLATE } from "../../src/prenotifications/engine";
import { domainRegistry, isOverdue, type Item, PN, PN_DISCREPANCY, PrenotificationView, STATUS_EVENT, verifyStatusEvent } from "../../src/records";
import { type Any, H, REPO_ROOT } from "./helpers";

const PYTHON = join(REPO_ROOT, ".venv/bin/python");
const SCRIPT = join(REPO_ROOT, "clients/web/tests/unit/cross_prenotifications.py");
const GROUP = "00000000-0000-4000-8000-0000000000aa";
const PN_ID = "00000000-0000-4000-8000-0000000000b1";
const [SENDER, DEST, TRANSIT, COORD, OUTSIDER] = ["01", "02", "03", "04", "05"].map((n) => `00000000-0000-4000-8000-0000000000${n}`) as [string, string, string, string, string];
const [SENDER_DEV, DEST_DEV] = ["00000000-0000-4000-8000-000000000011", "00000000-0000-4000-8000-000000000012"];
const SEED = "07".repeat(32);
const NOW = 1_700_000_000_000;

/** One Python process answers every request of a test (its start-up is the slow part). */
function python(requests: Record<string, unknown>[]): Any[] {
  const run = spawnSync(PYTHON, [SCRIPT], { input: JSON.stringify(requests), cwd: REPO_ROOT, encoding: "utf8", timeout: 120_000 });
  if (run.status !== 0) throw new Error(`python failed (${run.status}): ${run.stderr || run.error}`);
  return JSON.parse(run.stdout) as Any[];
}

/** The SDK's own example, with a non-ASCII contact to hold the UTF-8 encoding to the SDK's. */
const EXAMPLE: Record<string, Any> = JSON.parse(readFileSync(join(REPO_ROOT, "clients/python/cordon_client/templates/vaccine-prenotification.v1.example.json"), "utf8")).full;
EXAMPLE.contacts.destination_contact = "Kotoka cargo desk – Accra ✓";
const ROUTING = { prenotification_id: PN_ID, destination: [DEST], transit: [TRANSIT] };

/** A real verified roster: sender, destination, transit, coordinator and an outsider. */
async function roster() {
  const root = await newSigningKey();
  const log = new LogWriter(GROUP);
  await log.genesis(root, NOW);
  const keys = new Map<string, Awaited<ReturnType<typeof newSigningKey>>>();
  for (const [user, role] of [[SENDER, "member"], [DEST, "member"], [TRANSIT, "member"], [COORD, "coordinator"], [OUTSIDER, "member"]] as const) {
    keys.set(user, await newSigningKey());
    await log.addMember(root, user, keys.get(user)!.publicKey, role, NOW);
  }
  const destDevice = await signingKeyFromSeed(H(SEED));
  await log.addDevice(keys.get(SENDER)!, SENDER, SENDER_DEV, (await newSigningKey()).publicKey, NOW);
  await log.addDevice(keys.get(DEST)!, DEST, DEST_DEV, destDevice.publicKey, NOW);
  return verifyLog(root.publicKey, GROUP, log.entries);
}

function item(partial: Partial<Item>): Item {
  return { group_id: GROUP, seq: 3, kind: "prenotification", type: PN, sender_user_id: SENDER, sender_device_id: SENDER_DEV, parent_seq: null, valid: true, error: null, template: { id: PN_TEMPLATE, version: 1 }, data: EXAMPLE, routing: ROUTING, event: null, received_at: "", sent_at: null, ...partial };
}

describe("sending: the content the SDK seals", () => {
  it("an original with its routing and a discrepancy finding encode byte for byte as the SDK's, and read back valid there", () => {
    const registry = domainRegistry();
    const ours = registry.makeContent(PN, PN_TEMPLATE, EXAMPLE, { version: 1, extra: { routing: ROUTING } });
    const finding = { kind: "quantity", details: "2 boxes missing", lots: ["FF1234"], quantity_found: 56000 };
    const ourFinding = registry.makeContent(PN_DISCREPANCY, DISCREPANCY_TEMPLATE, finding);
    const [made, madeFinding, readOurs, readFinding, noRouting] = python([
      { action: "make", type: PN, data: EXAMPLE, routing: ROUTING },
      { action: "make", type: PN_DISCREPANCY, data: finding },
      { action: "read", content: toHex(ours) },
      { action: "read", content: toHex(ourFinding), parent_seq: 3 },
      { action: "read", content: toHex(registry.makeContent(PN, PN_TEMPLATE, EXAMPLE, { version: 1 })) },
    ]);
    expect(toHex(ours)).toBe(made.content);
    expect(toHex(ourFinding)).toBe(madeFinding.content);
    expect(readOurs).toEqual({ valid: true, error: null, type: PN, routing: ROUTING });
    expect(readFinding).toMatchObject({ valid: true, error: null, type: PN_DISCREPANCY });
    expect(noRouting).toMatchObject({ valid: false, error: "routing: a pre-notification must name its destination and transit users" });
  });
});

describe("capacities and parties: the SDK's rules", () => {
  it("who may act as what, and who a finding is sealed to (a user only the server lists is left out)", async () => {
    const verified = await roster();
    const members = Object.fromEntries([...verified.members.values()].map((m) => [m.memberId, m.role]));
    const view = new PrenotificationView(item({}));
    const listed = [DEST, TRANSIT, COORD, OUTSIDER]; // the server also lists an outsider
    const record = { recipients: listed.map((user_id) => ({ user_id, role: "destination" })) } as PnRecord;
    const people = [SENDER, DEST, TRANSIT, COORD, OUTSIDER];
    const theirs = python(people.map((me) => ({ action: "roles", sender: SENDER, routing: ROUTING, members, listed, me })));
    const ours = people.map((me) => ({ capacities: capacities(view, verified, me).sort(), parties: [...detailParties(view, verified, record)].sort() }));
    expect(ours).toEqual(theirs);
    expect(ours[1]!.capacities).toEqual(["destination"]);
    expect(ours[0]!.parties).not.toContain(OUTSIDER);
    // The moves offered follow the server's status; the transit member has none.
    view.server = { id: PN_ID, status: "acknowledged" };
    expect(movesFor(view, verified, DEST)).toEqual(["arrived", "discrepancy"]);
    expect(movesFor(view, verified, SENDER).sort()).toEqual(["amended", "cancelled"]);
    expect(movesFor(view, verified, TRANSIT)).toEqual([]);
  });
});

describe("overdue and status events", () => {
  it("overdue: awaiting acknowledgement past the decrypted ETA, as the SDK decides", () => {
    const now = "2027-03-01T16:00:00Z";
    const at = (eta?: string) => (eta === undefined ? {} : { transport: { eta } });
    const cases = [
      { status: "sent", data: at("2027-03-01T15:30:00Z") },
      { status: "amended", data: at("2027-03-01T16:00:00Z") },
      { status: "sent", data: at("2027-03-01T16:30:00+00:00") },
      { status: "acknowledged", data: at("2027-03-01T15:30:00Z") },
      { status: "sent", data: at() },
    ];
    const [{ overdue }] = python([{ action: "overdue", now, cases }]);
    expect(cases.map((c) => isOverdue(c.status, c.data, Date.parse(now)))).toEqual(overdue);
    expect(overdue).toEqual([true, true, false, false, false]);
  });

  it("an event the SDK signed verifies under the roster; a changed field, another member's claim or an unknown device is refused", async () => {
    const verified = await roster();
    const [signed] = python([{ action: "sign", seed: SEED, group_id: GROUP, prenotification_id: PN_ID, seq: 0, from: "sent", to: "acknowledged", ts: NOW }]);
    const event = { prenotification_id: PN_ID, seq: 0, from: "sent", to: "acknowledged", actor_user_id: DEST, actor_device_id: DEST_DEV, ts: NOW, detail_seq: null, sig: signed.sig };
    const check = async (e: Record<string, unknown>, detail: Uint8Array | null = null) => {
      const out = await verifyStatusEvent(item({ type: STATUS_EVENT, kind: "prenotification_event", parent_seq: 3, valid: false, error: "not yet verified", event: e }), verified, detail);
      return out.valid ? "verified" : out.error;
    };
    expect(await check(event)).toBe("verified");
    expect(await check({ ...event, to: "arrived" })).toBe("status event: signature does not verify");
    expect(await check({ ...event, sig: `${signed.sig.slice(0, -2)}00` })).toBe("status event: signature does not verify");
    expect(await check(event, new Uint8Array([1]))).toBe("status event: signature does not verify");
    expect(await check({ ...event, actor_user_id: SENDER })).toBe("signature: the acting device belongs to another member");
    expect(await check({ ...event, actor_device_id: "00000000-0000-4000-8000-0000000000ff" })).toBe("signature: the acting device is not in the verified roster");
  });
});
