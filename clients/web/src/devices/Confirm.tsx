/**
 * A plain-language confirmation shown in place before something that cannot be undone (a
 * device revocation): what will happen, then "do it" or "keep it" (Escape keeps it too). Focus
 * moves to it when it opens and back to the button that opened it when it closes.
 */
import { useEffect, useRef } from "preact/hooks";

export function Confirm({ id, title, body, confirm, cancel, busy, onConfirm, onCancel }: { id: string; title: string; body: string; confirm: string; cancel: string; busy: boolean; onConfirm: () => void; onCancel: () => void }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const opener = document.activeElement as HTMLElement | null;
    box.current?.focus();
    return () => {
      if (opener?.isConnected) opener.focus();
    };
  }, []);
  return (
    <div class="confirm" role="alertdialog" aria-labelledby={`${id}-title`} aria-describedby={`${id}-body`} tabIndex={-1} ref={box} onKeyDown={(e) => e.key === "Escape" && onCancel()}>
      <p id={`${id}-title`} class="confirm-title">
        {title}
      </p>
      <p id={`${id}-body`}>{body}</p>
      <div class="row-actions">
        <button type="button" class="danger" disabled={busy} onClick={onConfirm}>
          {confirm}
        </button>
        <button type="button" class="secondary" disabled={busy} onClick={onCancel}>
          {cancel}
        </button>
      </div>
    </div>
  );
}
