/** The generated case form's pure part (`src/cases/form.ts`): what input each template field
 * asks for, the data kept from what was typed, and field errors in the officer's language. */
import { afterEach, describe, expect, it } from "vitest";
import { codeOptions, errorText, kindOf, prune, setAt } from "../../src/cases/form";
import { language } from "../../src/i18n";
import { domainRegistry } from "../../src/records/view";

const template = domainRegistry().get("seizure-case");
const node = (path: string[], form = "simplified") => {
  let here: Record<string, unknown> = template.schema(form) as Record<string, unknown>;
  for (const p of path) {
    here = (here.properties as Record<string, Record<string, unknown>>)[p]!;
    if (here.type === "array" && (here.items as Record<string, unknown>).type === "object") here = here.items as Record<string, unknown>;
  }
  return here as never;
};

afterEach(() => {
  language.value = "en";
});

describe("case form", () => {
  it("reads each field's input from the schema", () => {
    expect(kindOf(node(["reporting_country"]))).toMatchObject({ kind: "code", vocab: "countries" });
    expect(kindOf(node(["information_accuracy"]))).toMatchObject({ kind: "code", options: [1, 2, 3, 4] });
    expect(kindOf(node(["reports"]))).toMatchObject({ kind: "object" });
    expect(kindOf(node(["reports", "seizure_date"]))).toEqual({ kind: "date" });
    expect(kindOf(node(["reports", "transit_countries"]))).toMatchObject({ kind: "codes", vocab: "countries" });
    expect(kindOf(node(["reports", "items", "quantity"]))).toEqual({ kind: "number", integer: false });
  });

  it("keeps only what was typed, so `required` names what is missing", () => {
    let data = setAt({ reports: [{}] }, ["reports", 0, "locode"], "");
    data = setAt(data, ["operation"], "  ");
    // an empty entry stays (as {}), so errors keep naming reports[0] as the form shows it
    expect(prune(data)).toEqual({ reports: [{}] });
    expect(template.errors(prune(data), "simplified").map((e) => e.path)).toContain("reports[0].seizure_date");
    data = setAt(data, ["reports", 0, "items"], [{ quantity: 3 }]);
    expect(prune(data)).toEqual({ reports: [{ items: [{ quantity: 3 }] }] });
    expect(template.errors(prune(data), "simplified").map((e) => e.path)).toContain("reports[0].items[0].unit");
  });

  it("says what is wrong in the officer's language, the SDK's reason kept for support", () => {
    const errors = template.errors({ reporting_country: "ZZ", reports: [{ locode: "bexyz", items: [{ quantity: 0 }] }] }, "simplified");
    const by = (path: string) => errors.find((e) => e.path === path)!;
    expect(by("reporting_country").reason).toBe("'ZZ' is not an allowed code");
    expect(errorText(by("reporting_country"))).toBe("Choose a value from the list.");
    expect(errorText(by("reports[0].items[0].quantity"))).toBe("Must be more than 0.");
    language.value = "fr";
    expect(errorText(by("handling_code"))).toBe("Obligatoire.");
    language.value = "ar";
    expect(errorText(by("reports[0].locode"))).toBe("الصيغة غير متوقعة (انظر المثال).");
    language.value = "ru";
    expect(errorText(by("reports[0].items[0].quantity"))).toBe("Должно быть больше 0.");
  });

  it("labels code lists in the officer's language, countries sorted as that language sorts", () => {
    const ru = codeOptions("countries", ["DE", "AT", "FR"], "ru").map((o) => o.label);
    expect(ru).toEqual(["Австрия (AT)", "Германия (DE)", "Франция (FR)"]);
    expect(codeOptions("place_types", ["seaport"], "pt")[0]!.label).toBe("Porto marítimo (seaport)");
    expect(template.label("reports[0].seizure_date", "ar")).toBe("تاريخ الضبط");
  });
});
