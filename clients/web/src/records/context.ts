/**
 * The records layer wired to this browser's unlocked keystore: its secrets, the verified roster
 * (`feed/engine.ts: roster`) and the authenticated API. Kept apart from `store.ts` so the
 * layer itself takes everything injected (and tests run it without a browser).
 */
import { authed } from "../auth/session";
import { roster } from "../feed/engine";
import { recordsInbox, showGranted } from "../feed/live";
import type { Vault } from "../feed/vault";
import type { RecordsContext } from "./store";

export function recordsContext(vault: Vault, userId: string): RecordsContext {
  return {
    secrets: vault.data.secrets,
    save: () => vault.save(),
    inbox: recordsInbox(vault),
    userId,
    deviceId: vault.deviceId,
    roster: (groupId) => roster(vault, groupId),
    call: <T,>(method: string, path: string, body?: unknown) => authed<T>(method, path, body === undefined ? {} : { body }),
    imported: showGranted,
  };
}
