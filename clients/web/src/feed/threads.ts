/** Replies gathered under the alert they answer, and unread counts: pure functions of the
 * kept items, so the screen recomputes them cheaply and tests run them without a browser. */
import type { FeedItem } from "./engine";

export interface Thread {
  key: string;
  root: FeedItem;
  /** Every reply below the root (replies to replies too), oldest first. */
  replies: FeedItem[];
}

/** An item that asks for a read receipt: verified content from someone else, not yet read. */
export const isUnread = (i: FeedItem) => !!i.ref && !i.mine && !i.read && i.refused === null;

/** A group's threads, newest root first. A reply whose parent is not here is its own root. */
export function threads(all: readonly FeedItem[], groupId: string): Thread[] {
  const mine = all.filter((i) => i.groupId === groupId);
  const bySeq = new Map(mine.map((i) => [i.seq, i]));
  const rootOf = (item: FeedItem): FeedItem => {
    let at = item;
    for (let depth = 0; depth < 1000 && at.parentSeq != null && bySeq.has(at.parentSeq) && at.parentSeq < at.seq; depth++) at = bySeq.get(at.parentSeq)!;
    return at;
  };
  const groups = new Map<number, Thread>();
  for (const item of [...mine].sort((a, b) => a.seq - b.seq)) {
    const root = rootOf(item);
    let thread = groups.get(root.seq);
    if (!thread) groups.set(root.seq, (thread = { key: `${groupId}/${root.seq}`, root, replies: [] }));
    if (item !== root) thread.replies.push(item);
  }
  return [...groups.values()].sort((a, b) => b.root.seq - a.root.seq);
}

export function unreadByGroup(all: readonly FeedItem[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of all) if (isUnread(item)) counts.set(item.groupId, (counts.get(item.groupId) ?? 0) + 1);
  return counts;
}
