/**
 * Seizure cases (`cases/operations.py`): post (validated before encrypting), amend, reply,
 * review. A case is a broadcast alert; amendments (new versions, same template), replies and
 * a coordinator's reviews are thread items whose `parent_seq` is the case's seq. What this
 * device sends is archived at once (it cannot decrypt its own envelopes later).
 */
import type { GroupChannel } from "../feed/engine";
import { archiveOwn, archived, coordinators, DomainError, type RecordsContext } from "../records/store";
import type { Json, TemplateRegistry } from "../records/templates";
import { buildCases, CASE, CASE_AMENDMENT, type CaseView, type Item, REPLY, REVIEW, VERDICTS } from "../records/view";

export interface CaseDraft {
  data: Json;
  form: string;
  /** The seizure-case template version (default: the latest the registry holds). */
  version?: number | null;
}

async function sent(ctx: RecordsContext, channel: GroupChannel, registry: TemplateRegistry, kind: "alert" | "chat", content: Uint8Array, options: { urgent?: boolean; parentSeq?: number | null; review?: boolean }): Promise<Item> {
  const { seq, sentAtMs } = await channel.send(kind, content, options);
  return archiveOwn(ctx, channel.groupId, { seq, kind, content, registry, parentSeq: options.parentSeq ?? null, sentAtMs });
}

/** Validate a seizure case, then broadcast it to the whole group as an alert. */
export async function postCase(ctx: RecordsContext, channel: GroupChannel, registry: TemplateRegistry, draft: CaseDraft, urgent = false): Promise<Item> {
  const content = registry.makeContent(CASE, "seizure-case", draft.data, { form: draft.form, version: draft.version ?? null });
  return sent(ctx, channel, registry, "alert", content, { urgent });
}

export function caseAt(ctx: RecordsContext, groupId: string, caseSeq: number): CaseView {
  const view = buildCases(archived(ctx.secrets, groupId)).find((v) => v.seq === caseSeq);
  if (!view) throw new DomainError(`no valid case #${caseSeq} on this device (sync first?)`);
  return view;
}

/** A new version of your own case; earlier versions stay in its thread. */
export async function amendCase(ctx: RecordsContext, channel: GroupChannel, registry: TemplateRegistry, caseSeq: number, draft: CaseDraft): Promise<Item> {
  const view = caseAt(ctx, channel.groupId, caseSeq);
  if (view.original.sender_user_id !== ctx.userId) throw new DomainError("only the case's sender may amend it; reply to ask for corrections");
  const content = registry.makeContent(CASE_AMENDMENT, "seizure-case", draft.data, { form: draft.form, version: draft.version ?? null });
  return sent(ctx, channel, registry, "alert", content, { parentSeq: caseSeq });
}

/** Reply to a case (or to a reply in its thread). */
export async function reply(ctx: RecordsContext, channel: GroupChannel, registry: TemplateRegistry, parentSeq: number, text: string): Promise<Item> {
  const content = registry.makeContent(REPLY, "case-reply", { text });
  return sent(ctx, channel, registry, "chat", content, { parentSeq });
}

/** As a coordinator of the verified roster: mark a case verified, or ask for corrections. */
export async function reviewCase(ctx: RecordsContext, channel: GroupChannel, registry: TemplateRegistry, caseSeq: number, verdict: string, note: string | null): Promise<Item> {
  if (!(VERDICTS as readonly string[]).includes(verdict)) throw new DomainError(`verdict must be one of ${VERDICTS.join(", ")}`);
  await channel.refresh();
  if (!coordinators(channel.session.roster).has(ctx.userId)) throw new DomainError("only a coordinator may review a case");
  caseAt(ctx, channel.groupId, caseSeq);
  const content = registry.makeContent(REVIEW, "case-review", { verdict, ...(note ? { note } : {}) });
  return sent(ctx, channel, registry, "chat", content, { parentSeq: caseSeq, review: true });
}
