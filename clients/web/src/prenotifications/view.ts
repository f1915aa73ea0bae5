/**
 * A pre-notification as the screens show it: the server's record (routing, status, times)
 * joined with what this device decrypted (the original, discrepancy findings), each read and
 * checked by `content.ts`. Anything that fails a check is kept as a refusal, never as content.
 * Pure: no I/O, no UI.
 */
import { type ArchivedItem, contentBytes } from "./archive";
import { ContentError, PN, PN_DISCREPANCY, type PnContent, readContent, type Validate } from "./content";
import type { PnRecord } from "./engine";
import { isOverdue } from "./workflow";

export interface Finding {
  seq: number;
  data: Record<string, unknown>;
}

export interface PnView {
  record: PnRecord;
  /** The decrypted original, or null (not decrypted here, or refused: see `refused`). */
  content: PnContent | null;
  findings: Finding[];
  /** Items of this pre-notification refused by a check: a blocking warning each. */
  refused: { seq: number; reason: string }[];
  direction: "outbox" | "inbox";
  overdue: boolean;
}

function read(item: ArchivedItem, validate: Validate): { content: PnContent | null; refused: string | null } {
  if (item.refused !== null) return { content: null, refused: item.refused };
  const raw = contentBytes(item);
  if (!raw) return { content: null, refused: "not decrypted" };
  try {
    return { content: readContent(raw, item.parentSeq, validate), refused: null };
  } catch (error) {
    if (error instanceof ContentError) return { content: null, refused: error.message };
    throw error;
  }
}

/** Join records and archive. Overdue: awaiting acknowledgement past the decrypted ETA (or the server's flag). */
export function buildViews(records: readonly PnRecord[], items: readonly ArchivedItem[], me: string, validate: Validate, now: Date): PnView[] {
  const bySeq = new Map(items.map((i) => [i.seq, i]));
  return records.map((record) => {
    const original = bySeq.get(record.stream_seq);
    const refused: PnView["refused"] = [];
    let content: PnContent | null = null;
    if (original) {
      const got = read(original, validate);
      if (got.refused !== null) refused.push({ seq: original.seq, reason: got.refused });
      else if (got.content?.type !== PN || got.content.routing?.prenotification_id !== record.id) refused.push({ seq: original.seq, reason: "routing: the encrypted id is not this pre-notification's" });
      else content = got.content;
    }
    const findings: Finding[] = [];
    for (const item of items) {
      if (item.parentSeq !== record.stream_seq) continue;
      const got = read(item, validate);
      if (got.refused !== null) refused.push({ seq: item.seq, reason: got.refused });
      else if (got.content?.type === PN_DISCREPANCY) findings.push({ seq: item.seq, data: got.content.data });
    }
    const overdue = content ? isOverdue(record.status, content.data, now) : record.overdue;
    return { record, content, findings, refused, direction: record.sender_user_id === me ? "outbox" : "inbox", overdue };
  });
}
