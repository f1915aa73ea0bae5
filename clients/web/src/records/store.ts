/**
 * The records layer's local archive and sync (`records/store.py`). Decrypted items are kept in
 * the sealed keystore (`domain-archive:<group id>`, the SDK's secret and JSON) because a
 * broadcast can be decrypted only once. `sync` takes what the live feed opened (the inbox,
 * sealed IndexedDB records: `incoming.ts`),
 * loads the group's verified templates, validates every item after decryption, verifies
 * status events against the roster, and archives. No UI: the caller injects the keystore's
 * secrets, the verified roster and the HTTP call (`RecordsContext`).
 */
import { b64StdDecode, CordonCryptoError, fromUtf8, type Roster, utf8 } from "../crypto";
import { groupsWithGrants, type Imported, importGranted } from "./history";
import { ARCHIVE, type Incoming, pyIsoFromMs, type RecordsInbox } from "./incoming";
import { TemplateError, type TemplateRegistry } from "./templates";
import { contentItem, decodeItems, domainRegistry, type Item, STATUS_EVENT, verifyStatusEvent } from "./view";

export { ARCHIVE };

/** A case or pre-notification operation the client refuses before calling the server. */
export class DomainError extends Error {
  override name = "DomainError";
}

/** What the records layer needs from the signed-in device, injected so it stays UI-free. */
export interface RecordsContext {
  /** The keystore's secrets (the archive); `save` seals and stores them. */
  secrets: Map<string, Uint8Array>;
  save(): Promise<void>;
  /** What the live feed opened for the records layer. */
  inbox: RecordsInbox;
  userId: string;
  deviceId: string;
  /** The group's verified roster (log sync from the pinned root, PROTOCOL §4). */
  roster(groupId: string): Promise<Roster>;
  /** An authenticated API call (`/api/v1` prefix implied), problem+json as an error. */
  call<T>(method: string, path: string, body?: unknown): Promise<T>;
  /** Shows what a history grant brought in the alerts feed (`feed/live.ts: showGranted`), in
   * place of the lines this device could not read. */
  imported?(items: readonly Imported[]): Promise<void>;
}

/** Every domain item this device holds for the group, by seq. */
export function archived(secrets: Map<string, Uint8Array>, groupId: string): Item[] {
  const raw = secrets.get(ARCHIVE(groupId));
  return raw && raw.length ? (JSON.parse(fromUtf8(raw)) as Item[]) : [];
}

/** Add or replace items (by seq) in the group's archive; the caller saves the keystore. */
export function store(secrets: Map<string, Uint8Array>, groupId: string, items: Iterable<Item>): void {
  const known = new Map(archived(secrets, groupId).map((i) => [i.seq, i]));
  for (const i of items) known.set(i.seq, i);
  const data = [...known.keys()].sort((a, b) => a - b).map((s) => known.get(s));
  secrets.set(ARCHIVE(groupId), utf8(JSON.stringify(data)));
}

/**
 * Archive an item this device just sent (it cannot decrypt its own envelopes), with the send
 * time it signed.
 */
export async function archiveOwn(ctx: RecordsContext, groupId: string, o: { seq: number; kind: string; content: Uint8Array; registry: TemplateRegistry; parentSeq?: number | null; sentAtMs?: number }): Promise<Item> {
  const item = contentItem(
    { group_id: groupId, seq: o.seq, kind: o.kind, sender_user_id: ctx.userId, sender_device_id: ctx.deviceId, parent_seq: o.parentSeq ?? null, sent_at: pyIsoFromMs(o.sentAtMs ?? Date.now()) },
    o.content,
    o.registry,
  );
  store(ctx.secrets, groupId, [item]);
  await ctx.save();
  return item;
}

/** Members whose role in the verified roster is coordinator. */
export function coordinators(roster: Roster): Set<string> {
  return new Set([...roster.members.values()].filter((m) => m.role === "coordinator").map((m) => m.memberId));
}

/** Keys allowed to sign group templates: the root and coordinators' member and device keys. */
export function trustedTemplateKeys(roster: Roster): Uint8Array[] {
  const keys: Uint8Array[] = [roster.rootKey];
  for (const m of roster.members.values()) {
    if (m.role !== "coordinator") continue;
    keys.push(m.memberKey);
    for (const d of m.devices.values()) keys.push(d.signingKey);
  }
  return keys;
}

/** Add the group's published template versions that verify; returns the refusals. */
export async function loadGroupTemplates(ctx: RecordsContext, groupId: string, registry: TemplateRegistry, roster: Roster): Promise<string[]> {
  const listing = await ctx.call<{ items: { template_id: string; version: number }[] }>("GET", `/groups/${groupId}/templates`);
  const refused: string[] = [];
  for (const entry of listing.items) {
    const version = Number(entry.version);
    if (registry.versions(entry.template_id).includes(version)) continue;
    const doc = await ctx.call<{ document: unknown }>("GET", `/groups/${groupId}/templates/${entry.template_id}/versions/${version}`);
    try {
      await registry.addSigned(doc.document, groupId, trustedTemplateKeys(roster));
    } catch (error) {
      if (!(error instanceof TemplateError || error instanceof CordonCryptoError)) throw error;
      refused.push(`${entry.template_id} v${version}: ${error.message}`);
    }
  }
  return refused;
}

/** The detail envelope a status event names (its hash is signed), or null when it names none. */
async function detailOf(ctx: RecordsContext, groupId: string, item: Item): Promise<Uint8Array | null> {
  const seq = item.event?.detail_seq;
  if (seq === null || seq === undefined) return null;
  try {
    const fetched = await ctx.call<{ envelope: string }>("GET", `/groups/${groupId}/messages/${Number(seq)}`);
    return b64StdDecode(fetched.envelope);
  } catch {
    // An event imported from a history grant: its detail comes through the same route (§9.1).
    try {
      const [served] = await ctx.call<{ envelope: string }[]>("GET", `/groups/${groupId}/history/prenotifications?seq=${Number(seq)}`);
      if (served) return b64StdDecode(served.envelope);
    } catch {
      // not granted either
    }
    return new Uint8Array(); // not served: the event's detail hash cannot match, so it is refused
  }
}

export interface SyncResult {
  /** The new domain items (valid and refused), all groups. */
  items: Item[];
  /** Group templates refused (forged, untrusted signer), per group. */
  templateRefusals: Map<string, string[]>;
}

/**
 * Take what the live feed opened, validate it after decryption, verify status events, archive
 * it. `registry` gains the groups' verified templates.
 */
export async function sync(ctx: RecordsContext, registry: TemplateRegistry = domainRegistry(), extra: Incoming[] = []): Promise<SyncResult> {
  // Read, archived and saved, and only then dropped from the inbox: a crash in between takes
  // them again (the archive keeps items by seq, so nothing doubles).
  const pending = await ctx.inbox.pending();
  const incoming = [...pending, ...extra];
  const result: SyncResult = { items: [], templateRefusals: new Map() };
  const imported: Imported[] = [];
  try {
    // Earlier items a coordinator granted (PROTOCOL §9.1): verified and archived as if received then.
    for (const groupId of groupsWithGrants(ctx.secrets)) imported.push(...(await importGranted(ctx, groupId)));
    incoming.push(...imported.map((i) => i.incoming));
    const groups = [...new Set(incoming.map((i) => i.group_id))];
    for (const groupId of groups) {
      const roster = await ctx.roster(groupId);
      result.templateRefusals.set(groupId, await loadGroupTemplates(ctx, groupId, registry, roster));
      const mine = incoming.filter((i) => i.group_id === groupId);
      const decoded = decodeItems(mine, registry, ctx.deviceId, coordinators(roster));
      const items: Item[] = [];
      for (const item of decoded) items.push(item.type === STATUS_EVENT ? await verifyStatusEvent(item, roster, await detailOf(ctx, groupId, item)) : item);
      store(ctx.secrets, groupId, items);
      result.items.push(...items);
    }
  } catch (error) {
    // Not handled (network): what was archived is saved and leaves the inbox; the rest stays
    // (`extra` items join it), so nothing opened is lost.
    const done = new Set(result.items.map((i) => `${i.group_id}/${i.seq}`));
    const isDone = (i: Incoming) => done.has(`${i.group_id}/${i.seq}`);
    await ctx.inbox.keep(extra.filter((i) => !isDone(i)));
    await ctx.save();
    await ctx.inbox.drop(pending.filter(isDone));
    throw error;
  }
  await ctx.save();
  await ctx.inbox.drop(pending);
  // Shown in the feed once archived: a grant imported is not asked for again.
  if (imported.length) await ctx.imported?.(imported);
  return result;
}

/** Templates of every group with an archive, loaded once per screen (a no-op when known). */
export async function groupRegistry(ctx: RecordsContext, groupId: string, registry: TemplateRegistry = domainRegistry()): Promise<{ registry: TemplateRegistry; refused: string[]; roster: Roster }> {
  const roster = await ctx.roster(groupId);
  const refused = await loadGroupTemplates(ctx, groupId, registry, roster);
  return { registry, refused, roster };
}
