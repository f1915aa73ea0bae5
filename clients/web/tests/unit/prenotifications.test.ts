/**
 * The pre-notification protocol (src/prenotifications): the workflow table and the overdue
 * rule against the Python SDK's, status-event signatures both ways (and refused when tampered,
 * from an unknown device or another member's), content bytes identical to the SDK's, and the
 * receiver's checks after decryption accepting and refusing what the SDK does.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { toHex } from "../../src/crypto/bytes";
import { LogWriter } from "../../src/crypto/log";
import { newSigningKey, signingKeyFromSeed } from "../../src/crypto/primitives";
import { verifyLog } from "../../src/crypto/roster";
import { ContentError, discrepancyContent, encodeContent, PN, readContent, type Validate } from "../../src/prenotifications/content";
import { EventRefused, parseEvent, verifyStatusEvent } from "../../src/prenotifications/events";
import { type Capacity, COORDINATOR, DESTINATION, allowedMoves, isOverdue, SENDER, signEvent, STATUSES } from "../../src/prenotifications/workflow";
import { type Any, H, REPO_ROOT } from "./helpers";

const PYTHON = join(REPO_ROOT, ".venv/bin/python");
const SCRIPT = join(REPO_ROOT, "clients/web/tests/unit/cross_prenotifications.py");
const GROUP = "00000000-0000-4000-8000-0000000000aa";
const PN_ID = "00000000-0000-4000-8000-0000000000b1";
const [SENDER_ID, DEST_ID] = ["00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000002"];
const [SENDER_DEV, DEST_DEV] = ["00000000-0000-4000-8000-000000000011", "00000000-0000-4000-8000-000000000012"];
const SEED = "07".repeat(32);
const NOW = 1_700_000_000_000;
const accept: Validate = () => [];

/** One Python process answers every request of a test (start-up is the slow part). */
function python(requests: Record<string, unknown>[]): Any[] {
  const run = spawnSync(PYTHON, [SCRIPT], { input: JSON.stringify(requests), cwd: REPO_ROOT, encoding: "utf8", timeout: 120_000 });
  if (run.status !== 0) throw new Error(`python failed (${run.status}): ${run.stderr || run.error}`);
  return JSON.parse(run.stdout) as Any[];
}

/** The SDK's own example, with a non-ASCII contact to hold the UTF-8 encoding to the SDK's. */
const EXAMPLE: Record<string, Any> = JSON.parse(readFileSync(join(REPO_ROOT, "clients/python/cordon_client/templates/vaccine-prenotification.v1.example.json"), "utf8")).full;
EXAMPLE.contacts.destination_contact = "Kotoka cargo desk – Accra ✓";

describe("workflow: the SDK's table and overdue rule", () => {
  it("every status and set of capacities allows exactly the SDK's moves", () => {
    const [{ moves }] = python([{ action: "table" }]);
    const held: Capacity[][] = [[], [SENDER], [DESTINATION], [COORDINATOR], [SENDER, DESTINATION], [SENDER, COORDINATOR], [DESTINATION, COORDINATOR], [SENDER, DESTINATION, COORDINATOR]];
    const ours: Record<string, string[]> = {};
    for (const status of STATUSES) for (const c of held) ours[`${status}|${c.join("+")}`] = allowedMoves(status, c);
    expect(ours).toEqual(moves);
    expect(allowedMoves("sent", [DESTINATION])).toEqual(["acknowledged"]);
    expect(allowedMoves("acknowledged", [DESTINATION])).toEqual(["arrived", "discrepancy"]);
  });

  it("overdue: awaiting acknowledgement past the ETA, as the SDK decides", () => {
    const now = "2027-03-01T16:00:00Z";
    const at = (eta: string | undefined) => (eta === undefined ? {} : { transport: { eta } });
    const cases = [
      { status: "sent", data: at("2027-03-01T15:30:00Z") },
      { status: "amended", data: at("2027-03-01T16:00:00Z") },
      { status: "sent", data: at("2027-03-01T16:30:00+00:00") },
      { status: "acknowledged", data: at("2027-03-01T15:30:00Z") },
      { status: "sent", data: at(undefined) },
      { status: "sent", data: at("2027-03-01T17:30:00+02:00") },
    ];
    const [{ overdue }] = python([{ action: "overdue", now, cases }]);
    expect(cases.map((c) => isOverdue(c.status, c.data, new Date(now)))).toEqual(overdue);
    expect(overdue).toEqual([true, true, false, false, false, true]);
  });
});

describe("status events: signatures across implementations", () => {
  const fields = (detail: Uint8Array | null) => ({ groupId: GROUP, prenotificationId: PN_ID, seq: 1, fromStatus: "acknowledged", toStatus: "discrepancy", ts: NOW, detail });
  const asPython = (detail: Uint8Array | null) => ({ group_id: GROUP, prenotification_id: PN_ID, seq: 1, from: "acknowledged", to: "discrepancy", ts: NOW, detail: detail && toHex(detail) });

  it("an event signed here verifies in the SDK, one signed there verifies here; a changed field does not", async () => {
    const key = await signingKeyFromSeed(H(SEED));
    const detail = new TextEncoder().encode("sealed findings");
    const ours = toHex(await signEvent(key, fields(detail)));
    const [theirs, ok, changed] = python([
      { action: "sign", seed: SEED, ...asPython(detail) },
      { action: "verify", public: toHex(key.publicKey), sig: ours, ...asPython(detail) },
      { action: "verify", public: toHex(key.publicKey), sig: ours, ...asPython(null) },
    ]);
    expect(theirs.sig).toBe(ours); // Ed25519 is deterministic: the same bytes were signed
    expect(ok).toEqual({ ok: true });
    expect(changed).toEqual({ ok: false, error: "status event: signature does not verify" });
  });

  it("verifyStatusEvent: the acting device from the verified roster, or a refusal", async () => {
    const root = await newSigningKey();
    const [senderMember, destMember] = [await newSigningKey(), await newSigningKey()];
    const destDevice = await signingKeyFromSeed(H(SEED));
    const senderDevice = await newSigningKey();
    const log = new LogWriter(GROUP);
    await log.genesis(root, NOW);
    await log.addMember(root, SENDER_ID, senderMember.publicKey, "member", NOW);
    await log.addMember(root, DEST_ID, destMember.publicKey, "member", NOW);
    await log.addDevice(senderMember, SENDER_ID, SENDER_DEV, senderDevice.publicKey, NOW);
    await log.addDevice(destMember, DEST_ID, DEST_DEV, destDevice.publicKey, NOW);
    const roster = await verifyLog(root.publicKey, GROUP, log.entries);
    const [signed] = python([{ action: "sign", seed: SEED, ...asPython(null), from: "sent", to: "acknowledged", seq: 0 }]);
    const raw = { prenotification_id: PN_ID, seq: 0, from: "sent", to: "acknowledged", actor_user_id: DEST_ID, actor_device_id: DEST_DEV, ts: NOW, detail_seq: null, sig: signed.sig };
    await verifyStatusEvent(parseEvent(JSON.stringify(raw)), roster, null);
    const refusal = async (event: Any, detail: Uint8Array | null = null) => {
      try {
        await verifyStatusEvent(parseEvent(JSON.stringify(event)), roster, detail);
      } catch (error) {
        expect(error).toBeInstanceOf(EventRefused);
        return (error as Error).message;
      }
      return "accepted";
    };
    expect(await refusal({ ...raw, to: "arrived" })).toBe("status event: signature does not verify");
    expect(await refusal({ ...raw, ts: NOW + 1 })).toBe("status event: signature does not verify");
    expect(await refusal({ ...raw, actor_user_id: SENDER_ID })).toBe("signature: the acting device belongs to another member");
    expect(await refusal({ ...raw, actor_device_id: "00000000-0000-4000-8000-0000000000ff" })).toBe("signature: the acting device is not in the verified roster");
    expect(await refusal({ ...raw, detail_seq: 9 }, new Uint8Array([1]))).toBe("status event: signature does not verify");
    expect(await refusal({ ...raw, sig: "00".repeat(64) })).toBe("status event: signature does not verify");
    expect(() => parseEvent(JSON.stringify({ ...raw, to: "lost" }))).toThrow("status event: malformed");
    expect(() => parseEvent("{not json")).toThrow("status event: malformed");
  });
});

describe("content: the SDK's bytes and the receiver's checks", () => {
  const routing = { prenotification_id: PN_ID, destination: [DEST_ID], transit: [] };

  it("an original and a discrepancy encode byte for byte as the SDK's, and each side accepts the other's", () => {
    const ours = encodeContent({ type: PN, template: { id: "vaccine-prenotification", version: 1, form: "full" }, data: EXAMPLE, routing });
    const finding = { kind: "quantity", details: "2 boxes missing", lots: ["FF1234"], quantity_found: 56000 };
    const ourFinding = encodeContent(discrepancyContent(finding));
    const [made, madeFinding, readOurs, readFinding] = python([
      { action: "make", type: "prenotification", data: EXAMPLE, routing },
      { action: "make", type: "prenotification_discrepancy", data: finding },
      { action: "read", content: toHex(ours) },
      { action: "read", content: toHex(ourFinding), parent_seq: 3 },
    ]);
    expect(toHex(ours)).toBe(made.content);
    expect(toHex(ourFinding)).toBe(madeFinding.content);
    expect(readOurs).toEqual({ valid: true, error: null, type: "prenotification" });
    expect(readFinding).toEqual({ valid: true, error: null, type: "prenotification_discrepancy" });
    expect(readContent(H(made.content), null, accept).routing).toEqual(routing);
    expect(readContent(H(madeFinding.content), 3, accept).data).toEqual(finding);
  });

  it("refuses what the SDK refuses: no template, wrong template, no routing, no parent, a bad finding", () => {
    const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
    const cases: [Uint8Array, number | null][] = [
      [enc("plain text"), null],
      [enc({ type: "prenotification", template: { id: "seizure-case", version: 1, form: "full" }, data: EXAMPLE, routing }), null],
      [enc({ type: "prenotification", template: { id: "vaccine-prenotification", version: 1, form: "full" }, data: EXAMPLE }), null],
      [encodeContent(discrepancyContent({ kind: "temperature", details: "logger at +12 °C" })), null],
      [enc({ type: "prenotification_discrepancy", template: { id: "prenotification-discrepancy", version: 1, form: "default" }, data: { kind: "late", details: "x" } }), 3],
      [enc({ type: "prenotification_discrepancy", template: { id: "prenotification-discrepancy", version: 1, form: "default" }, data: { kind: "quantity", details: "" } }), 3],
    ];
    const theirs = python(cases.map(([c, parent]) => ({ action: "read", content: toHex(c), parent_seq: parent })));
    expect(theirs.map((t) => t.valid)).toEqual(cases.map(() => false));
    const ours = cases.map(([c, parent]) => {
      try {
        readContent(c, parent, accept);
        return "accepted";
      } catch (error) {
        expect(error).toBeInstanceOf(ContentError);
        return (error as Error).message;
      }
    });
    expect(ours).toEqual([
      "(message): a pre-notification must be template content",
      "template.id: prenotification must be written in vaccine-prenotification",
      "routing: a pre-notification must name its destination and transit users",
      "parent_seq: is required (it names the pre-notification)",
      "kind: must be one of quantity, temperature, suspected_falsification",
      "details: must be 1 to 10000 characters",
    ]);
    expect(() => discrepancyContent({ kind: "quantity", details: "ok", temperature_c: Number.NaN })).toThrow("temperature_c: must be a number");
  });
});
