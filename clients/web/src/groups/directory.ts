/**
 * The server's directory entries (`GET /groups/{id}/members`: name, organisation, country,
 * server role) as labels for the verified roster: the listing never adds or removes a row, as
 * in the SDK's `groups/directory.py`. Fields are read defensively; what is missing is blank.
 */
import { authed } from "../auth/session";

export interface DirectoryEntry {
  readonly displayName: string | null;
  readonly username: string | null;
  readonly organisation: string | null;
  readonly country: string | null;
}

const text = (value: unknown): string | null => (typeof value === "string" && value.trim() ? value.trim() : null);

/** Entries for the verified member ids only. */
export function directoryFor(verifiedIds: Iterable<string>, listing: unknown): Map<string, DirectoryEntry> {
  const wanted = new Set(verifiedIds);
  const out = new Map<string, DirectoryEntry>();
  for (const raw of Array.isArray(listing) ? listing : []) {
    if (!raw || typeof raw !== "object") continue;
    const e = raw as Record<string, unknown>;
    const id = text(e.user_id);
    if (!id || !wanted.has(id)) continue;
    out.set(id, { displayName: text(e.display_name), username: text(e.username), organisation: text(e.organisation), country: text(e.country_code) });
  }
  return out;
}

export async function fetchDirectory(groupId: string, verifiedIds: Iterable<string>): Promise<Map<string, DirectoryEntry>> {
  try {
    return directoryFor(verifiedIds, await authed<unknown>("GET", `/groups/${groupId}/members`));
  } catch {
    return new Map();
  }
}

/** The country's name in the user's language (ISO 3166 code as fallback). */
export function countryName(code: string | null, language: string): string {
  if (!code) return "";
  try {
    return new Intl.DisplayNames([language], { type: "region" }).of(code) ?? code;
  } catch {
    return code;
  }
}
