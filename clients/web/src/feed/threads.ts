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

/**
 * A group's threads, newest root first, in one pass (it runs on every pushed item, over up to
 * tens of thousands). A parent counts only if it came earlier (lower seq) and is here; else
 * the reply is its own root, so a forged parent_seq can neither loop nor hide an item.
 */
export function threads(all: readonly FeedItem[], groupId: string): Thread[] {
  const mine: FeedItem[] = [];
  let sorted = true;
  for (const item of all) {
    if (item.groupId !== groupId) continue;
    if (mine.length && mine[mine.length - 1]!.seq > item.seq) sorted = false;
    mine.push(item);
  }
  if (!sorted) mine.sort((a, b) => a.seq - b.seq);
  const rootOf = new Map<number, Thread>();
  const out: Thread[] = [];
  for (const item of mine) {
    const parent = item.parentSeq != null && item.parentSeq < item.seq ? rootOf.get(item.parentSeq) : undefined;
    if (parent) parent.replies.push(item);
    else out.push({ key: `${groupId}/${item.seq}`, root: item, replies: [] });
    rootOf.set(item.seq, parent ?? out[out.length - 1]!);
  }
  return out.reverse();
}

export function unreadByGroup(all: readonly FeedItem[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of all) if (isUnread(item)) counts.set(item.groupId, (counts.get(item.groupId) ?? 0) + 1);
  return counts;
}
