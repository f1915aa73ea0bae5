/**
 * The pre-notification list filters (country, ETA range) and the amendment form's starting
 * point: the inputs `formStateOf` derives from a version give that version back through
 * `formData`, so an amendment edits exactly what was sent.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PN_TEMPLATE } from "../../src/prenotifications/engine";
import { matches } from "../../src/prenotifications/filters";
import { formData, formStateOf, problems } from "../../src/prenotifications/TemplateForm";
import { domainRegistry } from "../../src/records";
import { vocabularies } from "../../src/records/templates";
import { REPO_ROOT } from "./helpers";

const EXAMPLE = JSON.parse(readFileSync(join(REPO_ROOT, "clients/python/cordon_client/templates/vaccine-prenotification.v1.example.json"), "utf8")).full as Record<string, unknown>;
const NONE = { country: "", etaFrom: "", etaTo: "" };

describe("pre-notification list filters", () => {
  it("keep a shipment by sender, transit or destination country, any case", () => {
    expect(matches(EXAMPLE, NONE)).toBe(true);
    for (const country of ["BE", "nl", "GH"]) expect(matches(EXAMPLE, { ...NONE, country })).toBe(true);
    expect(matches(EXAMPLE, { ...NONE, country: "FR" })).toBe(false);
  });

  it("keep a shipment whose ETA day is in the range, ends included", () => {
    expect(matches(EXAMPLE, { ...NONE, etaFrom: "2027-03-01", etaTo: "2027-03-01" })).toBe(true);
    expect(matches(EXAMPLE, { ...NONE, etaFrom: "2027-03-02" })).toBe(false);
    expect(matches(EXAMPLE, { ...NONE, etaTo: "2027-02-28" })).toBe(false);
    expect(matches({ ...EXAMPLE, transport: {} }, { ...NONE, etaFrom: "2027-01-01" })).toBe(false);
  });
});

describe("the amendment form", () => {
  it("starts from the version it amends, which it gives back unchanged and valid", () => {
    const template = domainRegistry().get(PN_TEMPLATE);
    const codes = (vocab: string) => (vocabularies[vocab] ?? []).map((e) => ({ code: e.code, label: String(e.code) }));
    const state = formStateOf(template.schema(), EXAMPLE);
    expect(state.rows.lots).toBe(2);
    const back = formData(template.schema(), state, codes as never);
    expect(back).toEqual(EXAMPLE);
    expect(problems(template, back).size).toBe(0);
  });
});
