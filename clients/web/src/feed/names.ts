/**
 * Names for the verified roster. `GET /groups/{id}/members` names each member (username,
 * display name, organisation); the server is not trusted for *who is a member*, so the listing
 * only labels members the verified log already holds and never adds or removes a row. Its
 * fields are read defensively (`RosterEntryRead`: `organisation` is the organisation's name):
 * a field missing or not text is left out, and a member with no name shows as its id.
 */
import { authed } from "../auth/session";

export interface MemberName {
  readonly displayName: string | null;
  readonly username: string | null;
  readonly organisation: string | null;
}

const text = (value: unknown): string | null => (typeof value === "string" && value.trim() ? value.trim() : null);

/** One listing entry's name, or null when it carries no usable user id. */
export function memberNameFrom(entry: unknown): [string, MemberName] | null {
  if (!entry || typeof entry !== "object") return null;
  const e = entry as Record<string, unknown>;
  const userId = text(e.user_id);
  if (!userId) return null;
  return [userId, { displayName: text(e.display_name), username: text(e.username), organisation: text(e.organisation) }];
}

/** Names for the given verified member ids only; entries for anyone else are ignored. */
export function namesFor(verifiedIds: Iterable<string>, listing: unknown): Map<string, MemberName> {
  const wanted = new Set(verifiedIds);
  const names = new Map<string, MemberName>();
  for (const entry of Array.isArray(listing) ? listing : []) {
    const named = memberNameFrom(entry);
    if (named && wanted.has(named[0])) names.set(named[0], named[1]);
  }
  return names;
}

/** The label shown: "Display Name (Organisation)", the username, or the id as a fallback. */
export function memberLabel(memberId: string, name: MemberName | undefined): string {
  const who = name?.displayName ?? name?.username;
  if (!who) return memberId;
  return name?.organisation ? `${who} (${name.organisation})` : who;
}

/** Fetch the listing; a failure leaves the roster showing ids (names are a convenience). */
export async function fetchNames(groupId: string, verifiedIds: Iterable<string>): Promise<Map<string, MemberName>> {
  try {
    return namesFor(verifiedIds, await authed<unknown>("GET", `/groups/${groupId}/members`));
  } catch {
    return new Map();
  }
}
