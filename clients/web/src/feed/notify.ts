/**
 * System notifications for urgent alerts while this tab is in the background (Notifications
 * API). Permission is asked only from a button the member presses (browsers refuse, and
 * members dislike, a prompt out of nowhere). The notification says that an urgent alert
 * arrived, not what it says: decrypted text never leaves the page for the system's
 * notification centre, which keeps it outside this app's control.
 */
import { signal } from "@preact/signals";
import { t } from "./messages";

const supported = () => typeof Notification !== "undefined";

/** "unsupported", or the browser's permission: "default" (not asked), "granted", "denied". */
export const permission = signal<NotificationPermission | "unsupported">(supported() ? Notification.permission : "unsupported");

/** From a click: ask once; the answer is kept by the browser. */
export async function askPermission(): Promise<void> {
  if (!supported()) return;
  permission.value = await Notification.requestPermission();
}

/** An urgent alert was shown: raise a notification if nobody is looking at the page. */
export function notifyUrgent(): void {
  if (!supported() || Notification.permission !== "granted" || document.visibilityState === "visible") return;
  const note = new Notification(t("notify_title"), { body: t("notify_body"), tag: "cordon-urgent", requireInteraction: true });
  note.onclick = () => {
    window.focus();
    note.close();
  };
}
