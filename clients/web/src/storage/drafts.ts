/**
 * Typed forms kept while the officer types, so a lost connection or a reload never loses them:
 * each form's draft is a JSON value in the `drafts` store of `sealed.ts`, encrypted under a key
 * from the unlocked keystore, and deleted once the form is sent. Any feature reuses it with
 * `useDraft(formId, empty)`; drafts are available while the keystore is unlocked (`drafts`
 * holds them then, null otherwise), and the form works as a plain one before that.
 */
import { signal } from "@preact/signals";
import { useEffect, useRef, useState } from "preact/hooks";
import type { SealedStore } from "./sealed";

/** Writes wait this long after the last keystroke, so typing is not one write per key. */
export const DRAFT_DELAY_MS = 300;

export class Drafts {
  constructor(private readonly store: SealedStore) {}

  load<T>(formId: string): Promise<T | null> {
    return this.store.get<T>(formId);
  }

  save(formId: string, value: unknown): Promise<void> {
    return this.store.put(formId, value);
  }

  /** The form was sent (or cleared): nothing of it stays on this device. */
  discard(formId: string): Promise<void> {
    return this.store.delete(formId);
  }
}

/** The drafts of the user whose keystore is unlocked in this tab. */
export const drafts = signal<Drafts | null>(null);

export type DraftState = "none" | "saving" | "saved";

/**
 * A form's value, restored from its draft and written back (debounced) as it changes.
 * `discard()` after a successful send deletes the draft and resets the form to `empty`.
 */
export function useDraft<T>(formId: string, empty: T): { value: T; set: (next: T) => void; discard: () => Promise<void>; state: DraftState } {
  const store = drafts.value;
  const [value, setValue] = useState<T>(empty);
  const [state, setState] = useState<DraftState>("none");
  const touched = useRef(false);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const latest = useRef<T>(empty);

  useEffect(() => {
    touched.current = false;
    if (!store) return;
    let live = true;
    void store.load<T>(formId).then((found) => {
      // Typing before the draft was read wins over the draft.
      if (live && found !== null && !touched.current) {
        latest.current = found;
        setValue(found);
        setState("saved");
      }
    });
    return () => {
      live = false;
    };
  }, [store, formId]);

  useEffect(() => () => clearTimeout(timer.current), []);

  function set(next: T) {
    touched.current = true;
    latest.current = next;
    setValue(next);
    if (!store) return;
    setState("saving");
    clearTimeout(timer.current);
    timer.current = setTimeout(() => {
      void store.save(formId, latest.current).then(
        () => latest.current === next && setState("saved"),
        () => setState("none"),
      );
    }, DRAFT_DELAY_MS);
  }

  async function discard() {
    clearTimeout(timer.current);
    latest.current = empty;
    setValue(empty);
    setState("none");
    touched.current = false;
    if (store) await store.discard(formId);
  }

  return { value, set, discard, state };
}
