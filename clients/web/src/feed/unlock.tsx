/**
 * The unlocked keystore and the live feed, shared by every screen that takes part in groups
 * (alerts, cases, pre-notifications): the passphrase set-up or unlock, the connection banner,
 * and the state that leaves memory with the session.
 */
import { signal } from "@preact/signals";
import { useEffect, useState } from "preact/hooks";
import { ErrorLine, Field, Notice } from "../app/ui";
import { takePendingSeed } from "../auth/device";
import { session } from "../auth/session";
import { WrongPassphraseError } from "../crypto";
import { type Described, describeError, type MessageKey, t } from "../i18n";
import { Drafts, drafts } from "../storage/drafts";
import { SealedStore } from "../storage/sealed";
import type { GroupChannel } from "./engine";
import { forgetItems, link, LiveFeed, loadItems } from "./live";
import { sealedFor, Vault } from "./vault";

export const vault = signal<Vault | null>(null);
let feed: LiveFeed | null = null;

/** The live feed of the unlocked keystore (null while locked). */
export const liveFeed = (): LiveFeed | null => feed;

/** The live feed's session of a group (shared, so keys a pushed item installs are seen by
 * every screen); null while the keystore is locked. */
export function groupChannel(groupId: string): Promise<GroupChannel> | null {
  return feed ? feed.channel(groupId) : null;
}
/** A seed handed over by this tab's login, kept until the passphrase is chosen. */
let seed: Uint8Array | null = null;

export function describe(error: unknown): Described {
  if (error instanceof WrongPassphraseError) return { message: t("feed.wrong_passphrase"), code: "crypto.wrong_passphrase" };
  if (error instanceof Error && !("status" in error) && error.name !== "NetworkError") return { message: error.message, code: "code" in error ? String(error.code) : null };
  return describeError(error);
}

/** The feed history and drafts are opened (decrypted) before any screen sees the vault. */
async function opened(next: Vault) {
  await loadItems(next);
  drafts.value = new Drafts(new SealedStore(next.username, "drafts", await next.localKey()));
  vault.value = next;
  feed?.stop();
  feed = new LiveFeed(next);
  feed.start();
}

/**
 * Connect the live feed again from the stored cursor: after a group is pinned, the items that
 * waited for its key (a linked device's backlog, its HISTORY_TRANSFER) come now, before any
 * newer item moves the cursor past them.
 */
export function reconnectFeed(): void {
  if (!feed) return;
  feed.stop();
  feed.start();
}

/** Close the feed when the session ends (logout, expiry): keys leave memory with it. */
session.subscribe((current) => {
  if (!current && vault.value) {
    feed?.stop();
    feed = null;
    vault.value = null;
    drafts.value = null;
    forgetItems();
  }
});

export function KeystoreGate() {
  const user = session.value!.user;
  const [mode, setMode] = useState<"loading" | "create" | "unlock" | "lost">("loading");
  const [passphrase, setPassphrase] = useState("");
  const [confirm, setConfirm] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Described | null>(null);
  useEffect(() => {
    void (async () => {
      seed ??= takePendingSeed(user.username);
      const sealed = await sealedFor(user.username);
      setMode(sealed && sealed.deviceId === session.value?.deviceId ? "unlock" : seed ? "create" : "lost");
    })();
  }, []);
  async function submit(event: Event) {
    event.preventDefault();
    setError(null);
    if (mode === "create" && passphrase !== confirm) {
      setError({ message: t("feed.passphrase_mismatch"), code: null });
      return;
    }
    setBusy(true);
    try {
      if (mode === "create") {
        await opened(await Vault.create(user.username, session.value!.deviceId, seed!, passphrase));
        seed = null;
      } else {
        const next = await Vault.unlock(user.username, passphrase);
        await next.publishKeys();
        await opened(next);
      }
    } catch (failure) {
      setError(describe(failure));
    } finally {
      setBusy(false);
    }
  }
  if (mode === "loading") return null;
  if (mode === "lost") return <Notice>{t("feed.device_without_keystore")}</Notice>;
  return (
    <form class="card" onSubmit={submit}>
      <h2>{t(mode === "create" ? "feed.setup_title" : "feed.unlock_title")}</h2>
      <p>{t(mode === "create" ? "feed.setup_hint" : "feed.unlock_hint")}</p>
      <Field name="passphrase" type="password" label={t("feed.passphrase")} value={passphrase} onInput={setPassphrase} autoComplete="new-password" required />
      {mode === "create" && <Field name="passphrase-confirm" type="password" label={t("feed.passphrase_confirm")} value={confirm} onInput={setConfirm} autoComplete="new-password" required />}
      <ErrorLine error={error} />
      <button type="submit" disabled={busy}>
        {t(mode === "create" ? "feed.setup_submit" : "feed.unlock_submit")}
      </button>
    </form>
  );
}

export function LinkBanner() {
  const state = link.value;
  if (state === "live") return null;
  const key: MessageKey = state === "offline" ? "feed.offline" : state === "syncing" ? "feed.syncing" : "feed.connecting";
  return (
    <p class={state === "offline" ? "banner offline" : "banner"} role="status" data-link={state}>
      {t(key)}
    </p>
  );
}

