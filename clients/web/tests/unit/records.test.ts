/**
 * The records layer (`src/records`) against the Python SDK's (`cordon_client/records`,
 * `templates/registry.py`): the same field errors for the same bad forms, content made on one
 * side read on the other, the same cases and pre-notifications folded from the same items, the
 * same workflow moves, status events and template signatures that verify across, and forged
 * ones refused. One Python process answers the whole file (`cross_records.py`).
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { b64StdDecode, b64StdEncode, signingKeyFromSeed } from "../../src/crypto";
import { INBOX, INBOX_LIMIT, incoming, type Incoming, type InboxRecords, RecordsInbox } from "../../src/records/incoming";
import { archived, store } from "../../src/records/store";
import { codeLabel, InvalidContentError, TemplateRegistry } from "../../src/records/templates";
import { buildCases, buildPrenotifications, decodeItems, domainRegistry, filterCases, type Item } from "../../src/records/view";
import { allowedMoves, discrepancyToCase, signEvent, STATUSES } from "../../src/records/workflow";
import { type Any, hex, REPO_ROOT } from "./helpers";

const PYTHON = join(REPO_ROOT, ".venv/bin/python");
const SCRIPT = join(REPO_ROOT, "clients/web/tests/unit/cross_records.py");
const TEMPLATES = join(REPO_ROOT, "clients/python/cordon_client/templates");
const examples = JSON.parse(readFileSync(join(TEMPLATES, "seizure-case.v1.example.json"), "utf8"));
const pnExample = JSON.parse(readFileSync(join(TEMPLATES, "vaccine-prenotification.v1.example.json"), "utf8")).full;

const GROUP = "00000000-0000-4000-8000-00000000c0de";
const ALICE = "00000000-0000-4000-8000-0000000000a1";
const BOB = "00000000-0000-4000-8000-0000000000b0";
const COORD = "00000000-0000-4000-8000-0000000000c0";
const DEV_A = "00000000-0000-4000-8000-0000000000d1";
const DEV_B = "00000000-0000-4000-8000-0000000000d2";
const DEV_C = "00000000-0000-4000-8000-0000000000d3";

const simplified = examples.simplified;
const bad = (patch: (d: Any) => void) => {
  const d = structuredClone(simplified);
  patch(d);
  return d;
};
/** Bad forms touching every keyword the templates use. */
const BAD_FORMS: [string, Any][] = [
  ["simplified", {}],
  ["simplified", bad((d) => ((d.reports[0].place_type = "moon"), (d.information_accuracy = "a")))],
  ["simplified", bad((d) => ((d.reports[0].seizure_date = "2026-13-01"), (d.reports[0].extra = 1), (d.bogus = true)))],
  ["simplified", bad((d) => ((d.reports[0].items[0].quantity = 0), (d.reports[0].items[0].value = -1)))],
  ["simplified", bad((d) => ((d.reports[0].locode = "bexyz"), (d.reports[0].items[0].currency = "eu")))],
  ["simplified", bad((d) => ((d.operation = ""), (d.case_id = "x".repeat(101))))],
  ["simplified", bad((d) => ((d.reports = []), (d.reporting_country = 12)))],
  ["simplified", bad((d) => (d.reports[0].transport = { document_type: "AWB" }))],
  ["full", bad((d) => (d.reports[0].transit_countries = ["ZZ", "FR"]))],
  ["full", structuredClone(examples.full)],
  ["full", bad((d) => (d.outcome = { status: "lost", arrests: -2 }))],
];

function incomingOf(seq: number, kind: string, sender: [string, string], content: unknown, extra: Partial<Incoming> = {}): Incoming {
  const bytes = typeof content === "string" ? new TextEncoder().encode(content) : new TextEncoder().encode(JSON.stringify(content));
  return incoming({ group_id: GROUP, seq, kind, sender_user_id: sender[0], sender_device_id: sender[1], verified: true, content: bytes, sent_at: "2026-12-03T10:00:00+00:00", created_at: "2026-12-03T10:00:01+00:00", ...extra });
}
const content = (type: string, template: string, data: unknown, form: string | null = null) => ({ type, template: { id: template, version: 1, form }, data });
const amended = bad((d) => (d.handling_code = "H3"));
/** A case thread: the case, its sender's amendment, a stranger's amendment, a reply, reviews (one from a non-coordinator), a tampered item, a broken form. */
const THREAD: Incoming[] = [
  incomingOf(1, "alert", [ALICE, DEV_A], content("seizure_case", "seizure-case", simplified, "simplified")),
  incomingOf(2, "chat", [BOB, DEV_B], content("case_reply", "case-reply", { text: "Which flight?" }), { parent_seq: 1 }),
  incomingOf(3, "chat", [COORD, DEV_C], content("case_review", "case-review", { verdict: "corrections_requested", note: "HS code?" }), { parent_seq: 1, review: true }),
  incomingOf(4, "alert", [ALICE, DEV_A], content("seizure_case_amendment", "seizure-case", amended, "simplified"), { parent_seq: 1 }),
  incomingOf(5, "alert", [BOB, DEV_B], content("seizure_case_amendment", "seizure-case", amended, "simplified"), { parent_seq: 1 }),
  incomingOf(6, "chat", [BOB, DEV_B], content("case_review", "case-review", { verdict: "verified" }), { parent_seq: 1, review: true }),
  incoming({ group_id: GROUP, seq: 7, kind: "alert", sender_user_id: BOB, sender_device_id: DEV_B, error: "signature: envelope signature does not verify" }),
  incomingOf(8, "alert", [BOB, DEV_B], content("seizure_case", "seizure-case", bad((d) => (d.reports[0].place_type = "moon")), "simplified")),
  incomingOf(9, "alert", [BOB, DEV_B], content("seizure_case", "seizure-case", examples.full, "full")),
  incomingOf(10, "alert", [BOB, DEV_B], "a plain alert"),
  incomingOf(11, "chat", [ALICE, DEV_A], content("seizure_case", "seizure-case", simplified, "simplified")),
  incomingOf(12, "alert", [ALICE, DEV_A], content("seizure_case", "seizure-case", simplified, "simplified")), // own: skipped
];
const inboxJson = (i: Incoming) => ({ ...i, content: i.content ? b64StdEncode(i.content) : null });
const withoutReceivedAt = (i: Item) => {
  const { received_at: _r, ...rest } = i;
  return rest;
};

let py: Any[] = [];
let registry: TemplateRegistry;
let tsItems: Item[];
const PN_SEQ = 20;
const pnItems = () => {
  const routing = { destination_users: [BOB], transit_users: [], prenotification_id: "00000000-0000-4000-8000-0000000000f1" };
  const pn = { ...content("prenotification", "vaccine-prenotification", pnExample), routing };
  return [
    incomingOf(PN_SEQ, "prenotification", [ALICE, DEV_A], pn),
    incomingOf(21, "prenotification", [BOB, DEV_B], content("prenotification_discrepancy", "prenotification-discrepancy", { kind: "quantity", details: "400 doses short" }), { parent_seq: PN_SEQ }),
    incomingOf(22, "prenotification", [BOB, DEV_B], content("prenotification_amendment", "vaccine-prenotification", pnExample), { parent_seq: PN_SEQ }),
    incomingOf(23, "prenotification", [ALICE, DEV_A], "not template content"),
  ];
};

beforeAll(async () => {
  registry = domainRegistry();
  tsItems = decodeItems(THREAD, registry, "00000000-0000-4000-8000-0000000000ff", new Set([COORD]));
  // own device: seq 12 is from DEV_A as "own" in the second decode below
  const key = await signingKeyFromSeed(new Uint8Array(32).fill(7));
  const sig = await signEvent(key, { groupId: GROUP, prenotificationId: "00000000-0000-4000-8000-0000000000f1", seq: 5, fromStatus: "sent", toStatus: "acknowledged", ts: 1_700_000_000_000, detail: new Uint8Array([1, 2]) });
  const tsContent = registry.makeContent("seizure_case", "seizure-case", examples.full, { form: "full" });
  const requests = [
    ...BAD_FORMS.map(([form, data]) => ({ action: "errors", template: "seizure-case", form, data })),
    { action: "make-content", type: "seizure_case", template: "seizure-case", data: simplified, form: "simplified" },
    { action: "read-content", content: b64StdEncode(tsContent) },
    { action: "decode", incoming: THREAD.map(inboxJson), coordinators: [COORD], own: "00000000-0000-4000-8000-0000000000ff" },
    { action: "decode", incoming: THREAD.map(inboxJson), coordinators: [COORD], own: DEV_A },
    { action: "moves", capacities: [["sender"], ["destination"], ["coordinator"], ["sender", "coordinator"], []] },
    { action: "verify-event", key: hex(key.publicKey), sig: hex(sig), group_id: GROUP, prenotification_id: "00000000-0000-4000-8000-0000000000f1", seq: 5, from: "sent", to: "acknowledged", ts: 1_700_000_000_000, detail: "0102" },
    { action: "sign-template", seed: "07".repeat(32), template: "seizure-case", version: 2, group_id: GROUP, ts: 1_700_000_000_000 },
    { action: "to-case", pn: pnExample, reporting_country: "BE", kind: "suspected_falsification", seizure_date: "2026-11-05" },
    { action: "to-case", pn: pnExample, reporting_country: "FR", kind: "quantity", seizure_date: "2026-11-05", lots: [] },
  ];
  const run = spawnSync(PYTHON, [SCRIPT], { input: JSON.stringify(requests), cwd: REPO_ROOT, encoding: "utf8", timeout: 120_000 });
  if (run.status !== 0) throw new Error(`python failed (${run.status}): ${run.stderr || run.error}`);
  py = JSON.parse(run.stdout);
});

describe("templates: the SDK's field errors", () => {
  it("the shipped examples validate (full and simplified)", () => {
    const t = registry.get("seizure-case");
    expect(t.errors(examples.full, "full")).toEqual([]);
    expect(t.errors(examples.simplified, "simplified")).toEqual([]);
    expect(registry.get("vaccine-prenotification").errors(pnExample)).toEqual([]);
  });

  it("each bad form gets exactly the Python SDK's errors (path and reason)", () => {
    BAD_FORMS.forEach(([form, data], i) => {
      const ours = registry.get("seizure-case").errors(data, form).map((e) => `${e.path || "(message)"}: ${e.reason}`);
      expect(ours, `form #${i}`).toEqual(py[i]);
    });
    expect(py[0].length).toBeGreaterThan(3); // the comparison is not of empty lists
  });

  it("content made by Python reads here, content made here reads in Python, byte for byte", () => {
    const fromPy = b64StdDecode(py[BAD_FORMS.length]);
    expect(registry.readContent(fromPy).data).toEqual(simplified);
    expect(new TextDecoder().decode(registry.makeContent("seizure_case", "seizure-case", simplified, { form: "simplified" }))).toBe(new TextDecoder().decode(fromPy));
    expect(py[BAD_FORMS.length + 1].ok.data).toEqual(examples.full);
  });

  it("makeContent refuses a bad form before anything is encrypted, naming each field", () => {
    let caught: unknown;
    try {
      registry.makeContent("seizure_case", "seizure-case", {}, { form: "simplified" });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(InvalidContentError);
    expect((caught as InvalidContentError).errors.map((e) => e.path)).toContain("reporting_country");
  });

  it("code lists have labels in every language, English when a label is missing", () => {
    expect(codeLabel("countries", "FR", "fr")).toBe("France");
    expect(codeLabel("handling_codes", "H1", "en")).not.toBe("H1");
    expect(codeLabel("countries", "ZZ", "fr")).toBe("ZZ");
    expect(registry.get("seizure-case").label("reports[0].seizure_date", "es")).not.toBe("reports.seizure_date");
  });
});

describe("signed templates (PROTOCOL §12)", () => {
  it("a version the Python SDK signed is added under the signer's key, refused under another or tampered", async () => {
    const doc = py[BAD_FORMS.length + 6];
    const key = await signingKeyFromSeed(new Uint8Array(32).fill(7));
    const other = await signingKeyFromSeed(new Uint8Array(32).fill(8));
    const reg = domainRegistry();
    await expect(reg.addSigned(doc, GROUP, [other.publicKey])).rejects.toThrow("signed template: the signer is not a coordinator key");
    const tampered = structuredClone(doc);
    tampered.template.title = "changed";
    await expect(reg.addSigned(tampered, GROUP, [key.publicKey])).rejects.toThrow("signed template: signature does not verify");
    await expect(reg.addSigned(doc, "00000000-0000-4000-8000-00000000beef", [key.publicKey])).rejects.toThrow("signed template: published for another group");
    expect(reg.versions("seizure-case")).toEqual([1]);
    await reg.addSigned(doc, GROUP, [key.publicKey]);
    expect(reg.versions("seizure-case")).toEqual([1, 2]);
  });
});

describe("decoding and folding: same items as the SDK", () => {
  it("decodeItems validates after decryption and refuses exactly what Python refuses, with the same reasons", () => {
    expect(tsItems.map(withoutReceivedAt)).toEqual(py[BAD_FORMS.length + 2]);
    const refused = tsItems.filter((i) => !i.valid).map((i) => i.seq);
    expect(refused).toEqual([6, 7, 8, 11]); // 6: a review by a non-coordinator
    // this device's own items are skipped (the archive has them from when they were sent)
    const own = decodeItems(THREAD, registry, DEV_A, new Set([COORD]));
    expect(own.map(withoutReceivedAt)).toEqual(py[BAD_FORMS.length + 3]);
    expect(own.some((i) => i.sender_device_id === DEV_A)).toBe(false);
  });

  it("buildCases: versions only from the sender, reviews only from coordinators, status as the SDK", () => {
    const views = buildCases(tsItems);
    const one = views.find((v) => v.seq === 1)!;
    expect(one.versions.map((i) => i.seq)).toEqual([1, 4]);
    expect(one.replies.map((i) => i.seq)).toEqual([2]);
    expect(one.reviews.map((i) => i.seq)).toEqual([3]);
    expect(one.refused.map((i) => [i.seq, i.error])).toEqual([
      [5, "sender: only the case's sender may amend it"],
      [6, "sender: only a coordinator of the verified roster may review a case"],
    ]);
    expect(tsItems.find((i) => i.seq === 7)!.type).toBe("refused"); // a tampered envelope: no content at all
    expect(one.status).toBe("amended");
    expect(one.data.handling_code).toBe("H3");
    expect(views.map((v) => v.seq)).toEqual([1, 9, 12]);
    expect(filterCases(views, { country: "in" }).map((v) => v.seq)).toEqual([1, 9, 12]);
    expect(filterCases(views, { status: ["unreviewed"] }).map((v) => v.seq)).toEqual([9, 12]);
  });

  it("the same archive folds to the same cases and records in Python", () => {
    const items = tsItems;
    const run = spawnSync(PYTHON, [SCRIPT], {
      input: JSON.stringify([
        { action: "cases", items, filter: { status: ["amended"], country: "BE" } },
        { action: "prenotifications", items: decodeItems(pnItems(), registry, null, null) },
      ]),
      cwd: REPO_ROOT,
      encoding: "utf8",
      timeout: 120_000,
    });
    expect(run.status, run.stderr).toBe(0);
    const [pyCases, pyPns] = JSON.parse(run.stdout);
    const ours = buildCases(items).map((v) => ({
      seq: v.seq,
      status: v.status,
      versions: v.versions.map((i) => i.seq),
      replies: v.replies.map((i) => i.seq),
      reviews: v.reviews.map((i) => i.seq),
      refused: v.refused.map((i) => [i.seq, i.error]),
      record: v.record(),
    }));
    expect(ours).toEqual(pyCases.cases);
    expect(filterCases(buildCases(items), { status: ["amended"], country: "BE" }).map((v) => v.seq)).toEqual(pyCases.filtered);
    const pns = buildPrenotifications(decodeItems(pnItems(), registry, null, null)).map((v) => ({
      seq: v.seq,
      status: v.status,
      id: v.id,
      versions: v.versions.map((i) => i.seq),
      discrepancies: v.discrepancies.map((i) => i.seq),
      events: v.events.map((i) => i.seq),
      refused: v.refused.map((i) => [i.seq, i.error]),
    }));
    expect(pns).toEqual(pyPns);
    expect(pns[0]!.refused).toEqual([[22, "sender: only the pre-notification's sender may amend"]]);
  });
});

describe("workflow: the SDK's state machine and signed status events", () => {
  it("allowed moves per status and capacity are the SDK's", () => {
    const caps = [["sender"], ["destination"], ["coordinator"], ["sender", "coordinator"], []];
    const ours = Object.fromEntries(STATUSES.map((s) => [s, Object.fromEntries(caps.map((c) => [c.join(","), allowedMoves(s, c)]))]));
    expect(ours).toEqual(py[BAD_FORMS.length + 4]);
  });

  it("a status event signed here verifies in Python", () => {
    expect(py[BAD_FORMS.length + 5]).toBe("ok");
  });

  it("discrepancy → case gives the SDK's pre-filled case", () => {
    expect(discrepancyToCase(pnExample, { reportingCountry: "BE", kind: "suspected_falsification", seizureDate: "2026-11-05" })).toEqual(py[BAD_FORMS.length + 7]);
    expect(discrepancyToCase(pnExample, { reportingCountry: "FR", kind: "quantity", seizureDate: "2026-11-05", lots: [] })).toEqual(py[BAD_FORMS.length + 8]);
  });
});

/** The inbox's record store without a browser: `SealedStore`'s contract (ids in order, a put
 * replaces, values kept as JSON) over a Map; the sealed IndexedDB store itself runs in the
 * browser specs (prenotifications.spec.ts, cases.spec.ts). */
class MemoryRecords implements InboxRecords {
  readonly rows = new Map<string, string>();
  writes = 0;
  async putMany(entries: ReadonlyArray<readonly [string, unknown]>) {
    this.writes++;
    for (const [id, value] of entries) this.rows.set(id, JSON.stringify(value));
  }
  async all<T>() {
    return (await this.keys()).map((id) => JSON.parse(this.rows.get(id)!) as T);
  }
  async deleteMany(ids: readonly string[]) {
    for (const id of ids) this.rows.delete(id);
  }
  async keys() {
    return [...this.rows.keys()].sort();
  }
}

describe("inbox (sealed records) and archive (keystore secrets, the SDK's names)", () => {
  it("opened items wait in the inbox once, then live in the archive by seq", async () => {
    const records = new MemoryRecords();
    const inbox = new RecordsInbox(async () => records);
    await inbox.keep([...THREAD.slice(0, 3), incoming({ group_id: GROUP, seq: 99, kind: "membership" })]);
    expect(records.writes).toBe(1); // one write per batch
    await inbox.keep([THREAD[1]!]); // delivered again (a crash before the keystore was saved)
    const taken = await inbox.pending();
    expect(taken.map((i) => i.seq)).toEqual([1, 2, 3]);
    expect(new TextDecoder().decode(taken[0]!.content!)).toBe(new TextDecoder().decode(THREAD[0]!.content!));
    expect(taken[0]).toEqual(THREAD[0]);
    expect(await inbox.pending()).toHaveLength(3); // read, not taken: dropped only once archived
    await inbox.keep([THREAD[3]!]); // arrives while the records layer archives the first three
    await inbox.drop(taken);
    expect((await inbox.pending()).map((i) => i.seq)).toEqual([THREAD[3]!.seq]);
    const secrets = new Map<string, Uint8Array>();
    store(secrets, GROUP, tsItems.slice(2));
    store(secrets, GROUP, tsItems.slice(0, 3));
    expect(archived(secrets, GROUP).map((i) => i.seq)).toEqual(tsItems.map((i) => i.seq).sort((a, b) => a - b));
  });

  it("moves an inbox kept in the keystore (the SDK's JSON list) once, then deletes the secret", async () => {
    const records = new MemoryRecords();
    const inbox = new RecordsInbox(async () => records);
    const legacy = THREAD.slice(0, 2).map((i) => ({ ...i, content: i.content ? b64StdEncode(i.content) : null }));
    const secrets = new Map([[INBOX, new TextEncoder().encode(JSON.stringify(legacy))]]);
    let saves = 0;
    expect(await inbox.moveKeystoreInbox(secrets, async () => void saves++)).toBe(2);
    expect(secrets.has(INBOX)).toBe(false);
    expect(saves).toBe(1);
    expect(await inbox.pending()).toEqual(THREAD.slice(0, 2));
    expect(await inbox.moveKeystoreInbox(secrets, async () => void saves++)).toBe(0); // nothing left to move
    expect(saves).toBe(1);
  });

  it("keeps the newest INBOX_LIMIT items of a group nobody takes", async () => {
    const records = new MemoryRecords();
    const inbox = new RecordsInbox(async () => records);
    const other = "00000000-0000-4000-8000-00000000beef";
    const many = (group: string, from: number, n: number) => Array.from({ length: n }, (_, k) => incoming({ group_id: group, seq: from + k, kind: "alert" }));
    for (let from = 1; from <= INBOX_LIMIT + 500; from += 250) await inbox.keep(many(GROUP, from, 250));
    await inbox.keep(many(other, 1, 10));
    const kept = await inbox.pending();
    const mine = kept.filter((i) => i.group_id === GROUP).map((i) => i.seq);
    expect(mine).toHaveLength(INBOX_LIMIT);
    expect(mine[0]).toBe(501); // the oldest 500 dropped
    expect(kept.filter((i) => i.group_id === other)).toHaveLength(10);
  });
});
