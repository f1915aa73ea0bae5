/**
 * The seam to the template layer (`src/records/templates.ts`, ported from the SDK's
 * `templates/registry.py` on the `web-cases` branch): the group's pre-notification template
 * (its signed published version when the coordinators published one, else the built-in), the
 * validation of content against the version it names, and vocabulary labels.
 */
import type { Validate } from "./content";
import type { Codes, FormTemplate } from "./TemplateForm";

export interface PnTemplates {
  template: FormTemplate & { readonly id: string; readonly defaultForm: string };
  validate: Validate;
  codes: Codes;
}

export async function loadTemplates(_groupId: string): Promise<PnTemplates> {
  throw new Error("the template layer is not available in this build");
}
