/**
 * One group's verified local archive for a records screen (cases, analytics): the "open the
 * group" stages (pinned, then this device admitted), a serialized sync-then-reread queue so
 * overlapping refreshes never interleave, and a re-sync whenever the live feed fills the
 * records inbox. Each screen used to carry its own copy of this.
 */
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { session } from "../auth/session";
import { certifySelf, type GroupChannel, type GroupSummary, isPinned } from "../feed/engine";
import { inboxTick } from "../feed/live";
import { describe, liveFeed, vault } from "../feed/unlock";
import type { Described } from "../i18n";
import { recordsContext } from "./context";
import { archived, sync } from "./store";
import { domainRegistry, type Item } from "./view";

export type Stage = "loading" | "not_pinned" | "not_admitted" | "ready";

/** What a screen loads once the group's channel is fresh: before the first sync, and after "ready". */
export interface GroupHooks {
  opened?: (channel: GroupChannel) => Promise<void>;
  ready?: (channel: GroupChannel) => void;
}

export function useGroupRecords(group: GroupSummary, hooks: GroupHooks = {}) {
  const v = vault.value!;
  const me = session.value!.user.id;
  const ctx = useMemo(() => recordsContext(v, me), [v, me]);
  const registry = useMemo(() => domainRegistry(), [group.id]);
  const [stage, setStage] = useState<Stage>("loading");
  const [items, setItems] = useState<Item[]>([]);
  const [error, setError] = useState<Described | null>(null);
  const queue = useRef<Promise<void>>(Promise.resolve());

  /** Re-read the archive without syncing (after this device itself posted). */
  const reread = () => setItems(archived(ctx.secrets, group.id));
  const refresh = () => {
    queue.current = queue.current.then(async () => {
      try {
        await sync(ctx, registry);
        reread();
      } catch (failure) {
        setError(describe(failure));
      }
    });
    return queue.current;
  };

  async function open() {
    setError(null);
    if (!isPinned(v, group.id)) return setStage("not_pinned");
    try {
      if ((await certifySelf(v, group.id, me)) === "not_admitted") return setStage("not_admitted");
      const channel = await liveFeed()!.channel(group.id);
      await channel.refresh();
      await hooks.opened?.(channel);
      await refresh();
      setStage("ready");
      hooks.ready?.(channel);
    } catch (failure) {
      setError(describe(failure));
    }
  }
  useEffect(() => void open(), [group.id]);
  const tick = inboxTick.value;
  useEffect(() => {
    if (stage === "ready") void refresh();
  }, [tick]);

  return { me, ctx, registry, stage, items, reread, error, setError };
}
