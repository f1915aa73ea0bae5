/**
 * Decrypted pre-notification content kept on this device. A targeted envelope opens once (its
 * message id is then a replay), and a sender cannot open its own: so the live feed stores what
 * it opened here, and a send stores what it sealed, in the keystore's secrets (sealed at rest
 * with it). Raw bytes only; `content.ts` reads and checks them when shown.
 * Seam: the generic record archive of `src/records/` (the SDK's `domain-archive:<group>`)
 * replaces this once it lands; until then only `prenotification` items are kept here.
 */
import { signal } from "@preact/signals";
import { b64d, b64e, fromUtf8, utf8 } from "../crypto";

/** Bumped when something about a pre-notification arrived (content or a status event). */
export const pnChanged = signal(0);

export interface ArchivedItem {
  seq: number;
  parentSeq: number | null;
  senderUserId: string | null;
  senderDeviceId: string | null;
  /** The envelope's message id (the pre-notification's id for an original). */
  messageId: string | null;
  /** Decrypted content, base64url; null when the item was refused. */
  content: string | null;
  refused: string | null;
  createdAt: string;
}

export interface SecretStore {
  readonly secrets: Map<string, Uint8Array>;
}

const name = (groupId: string) => `pn-archive:${groupId}`;

export function archived(data: SecretStore, groupId: string): ArchivedItem[] {
  const raw = data.secrets.get(name(groupId));
  return raw ? (JSON.parse(fromUtf8(raw)) as ArchivedItem[]) : [];
}

/** Add or replace (by seq); the caller saves the keystore. */
export function archive(data: SecretStore, groupId: string, item: ArchivedItem): void {
  const known = new Map(archived(data, groupId).map((i) => [i.seq, i]));
  known.set(item.seq, item);
  data.secrets.set(name(groupId), utf8(JSON.stringify([...known.values()].sort((a, b) => a.seq - b.seq))));
  pnChanged.value += 1;
}

export const contentBytes = (item: ArchivedItem): Uint8Array | null => (item.content === null ? null : b64d(item.content));
export const storedContent = (content: Uint8Array): string => b64e(content);
