import { describe, expect, it } from "vitest";
import { ApiError, NetworkError, errorFromResponse } from "../../src/api/client";
import { en } from "../../src/i18n/en";
import { LANGUAGES, describeError, featureCatalogues, language, loadLanguage, preferredLanguage, t } from "../../src/i18n";

// Every feature's own catalogues (src/<feature>/messages.ts, and the shell's nav labels in
// src/<feature>/nav.ts) register themselves when imported; they are not lazy like the core ones.
const featureModules = import.meta.glob(["../../src/*/messages.ts", "../../src/*/nav.ts"], { eager: true });

describe("catalogues", () => {
  const keys = Object.keys(en).sort();
  for (const code of Object.keys(LANGUAGES) as (keyof typeof LANGUAGES)[]) {
    it(`${code} has every message, none empty, the same placeholders`, async () => {
      const messages = await loadLanguage(code);
      expect(Object.keys(messages).sort()).toEqual(keys);
      for (const key of keys) {
        const text = messages[key as keyof typeof en];
        expect(text.trim(), `${code} ${key}`).not.toBe("");
        const holes = (s: string) => (s.match(/\{\w+\}/g) ?? []).sort();
        expect(holes(text), `${code} ${key}`).toEqual(holes(en[key as keyof typeof en]));
      }
    });
  }

  it("every feature catalogue has every message in every language, the same placeholders", () => {
    // At least one catalogue per feature module, so a module the glob missed cannot pass empty.
    expect(featureCatalogues.length).toBeGreaterThanOrEqual(Object.keys(featureModules).length);
    const holes = (s: string) => (s.match(/\{\w+\}/g) ?? []).sort();
    for (const catalogues of featureCatalogues) {
      const keys = Object.keys(catalogues.en).sort();
      for (const code of Object.keys(LANGUAGES) as (keyof typeof LANGUAGES)[]) {
        expect(Object.keys(catalogues[code]).sort(), code).toEqual(keys);
        for (const key of keys) {
          const text = catalogues[code][key] ?? "";
          expect(text.trim(), `${code} ${key}`).not.toBe("");
          expect(holes(text), `${code} ${key}`).toEqual(holes(catalogues.en[key] ?? ""));
        }
      }
    }
  });

  it("only Arabic is right to left", () => {
    const rtl = Object.entries(LANGUAGES).filter(([, l]) => l.dir === "rtl").map(([c]) => c);
    expect(rtl).toEqual(["ar"]);
  });

  it("picks the browser's first language we have", () => {
    expect(preferredLanguage(["de-DE", "pt-BR", "en"])).toBe("pt");
    expect(preferredLanguage(["zh"])).toBe("en");
  });
});

describe("errors become one line in the user's language with the code", () => {
  it("maps a known code, in French", async () => {
    await loadLanguage("fr");
    language.value = "fr";
    const line = describeError(new ApiError(401, "auth.invalid_credentials", "Wrong username or password"));
    expect(line).toEqual({ message: "Nom d'utilisateur ou mot de passe incorrect.", code: "auth.invalid_credentials" });
    language.value = "en";
  });

  it("keeps an unknown code for support behind a generic line", () => {
    expect(describeError(new ApiError(409, "group.closed", "The group is closed"))).toEqual({
      message: t("error.refused"),
      code: "group.closed",
    });
    expect(describeError(new ApiError(500, "core.internal", "boom")).message).toBe(t("error.generic"));
  });

  it("says the server is unreachable, without a code", () => {
    expect(describeError(new NetworkError(new TypeError("fetch failed")))).toEqual({ message: t("error.network"), code: null });
  });

  it("reads the problem document of a response, or its status when it is not one", async () => {
    const problem = new Response(JSON.stringify({ code: "auth.throttled", detail: "Too many", status: 429 }), {
      status: 429,
      headers: { "Content-Type": "application/problem+json" },
    });
    const error = await errorFromResponse(problem);
    expect([error.status, error.code, error.detail]).toEqual([429, "auth.throttled", "Too many"]);
    const proxy = await errorFromResponse(new Response("<html>Bad gateway</html>", { status: 502, statusText: "Bad Gateway" }));
    expect([proxy.code, proxy.detail]).toEqual(["http.502", "Bad Gateway"]);
    expect(describeError(proxy).message).toBe(t("error.generic"));
  });
});
