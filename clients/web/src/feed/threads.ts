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

/** Whether `next` is `prev` with items added at the end (same objects, same places): the
 * shape of a pushed item; a read mark or a receipt replaces an item and is not. */
function extendsPrefix(prev: readonly FeedItem[], next: readonly FeedItem[]): boolean {
  if (next.length < prev.length) return false;
  for (let i = 0; i < prev.length; i++) if (prev[i] !== next[i]) return false;
  return true;
}

/**
 * `threads()` kept up to date per push: when the kept items only grew at the end with newer
 * seqs, the new items are added to the previous result (a pointer check over the old ones,
 * no regrouping); anything else (a read mark, a receipt, another group) regroups in full.
 * Same result as `threads(all, groupId)` (tests/unit/threads.test.ts).
 */
export class ThreadIndex {
  private source: readonly FeedItem[] = [];
  private groupId = "";
  private lastSeq = -Infinity;
  /** seq → the seq of its thread's root. */
  private rootSeq = new Map<number, number>();
  /** Root seq → its position in `list` counted from the end (oldest root = 0). */
  private place = new Map<number, number>();
  private list: Thread[] = [];
  private byKey = new Map<string, Thread>();

  update(all: readonly FeedItem[], groupId: string): Thread[] {
    if (groupId !== this.groupId || !extendsPrefix(this.source, all)) return this.rebuild(all, groupId);
    const added: FeedItem[] = [];
    for (let i = this.source.length; i < all.length; i++) if (all[i]!.groupId === groupId) added.push(all[i]!);
    this.source = all;
    if (!added.length) return this.list;
    if (added.some((item, i) => item.seq <= (i ? added[i - 1]!.seq : this.lastSeq))) return this.rebuild(all, groupId);
    const roots: Thread[] = [];
    const changed = new Map<number, Thread>();
    for (const item of added) {
      const root = item.parentSeq != null && item.parentSeq < item.seq ? this.rootSeq.get(item.parentSeq) : undefined;
      if (root === undefined) {
        const thread = { key: `${groupId}/${item.seq}`, root: item, replies: [] };
        this.place.set(item.seq, this.place.size);
        this.rootSeq.set(item.seq, item.seq);
        this.byKey.set(thread.key, thread);
        roots.push(thread);
        changed.set(item.seq, thread);
      } else {
        const old = changed.get(root) ?? this.byKey.get(`${groupId}/${root}`)!;
        const thread = changed.has(root) ? old : { ...old, replies: [...old.replies] };
        thread.replies.push(item);
        this.rootSeq.set(item.seq, root);
        this.byKey.set(thread.key, thread);
        changed.set(root, thread);
      }
      this.lastSeq = item.seq;
    }
    const next = roots.reverse().concat(this.list);
    for (const [root, thread] of changed) next[next.length - 1 - this.place.get(root)!] = thread;
    this.list = next;
    return next;
  }

  /** The thread shown under `key` (as VirtualList's rowKey gives it). */
  get(key: string): Thread | undefined {
    return this.byKey.get(key);
  }

  private rebuild(all: readonly FeedItem[], groupId: string): Thread[] {
    this.source = all;
    this.groupId = groupId;
    this.list = threads(all, groupId);
    this.rootSeq.clear();
    this.place.clear();
    this.byKey.clear();
    this.lastSeq = -Infinity;
    this.list.forEach((thread, i) => {
      this.place.set(thread.root.seq, this.list.length - 1 - i);
      this.byKey.set(thread.key, thread);
      for (const item of [thread.root, ...thread.replies]) {
        this.rootSeq.set(item.seq, thread.root.seq);
        if (item.seq > this.lastSeq) this.lastSeq = item.seq;
      }
    });
    return this.list;
  }
}

/** `unreadByGroup()` kept up to date: items added at the end only add to the counts. */
export class UnreadIndex {
  private source: readonly FeedItem[] = [];
  private counts = new Map<string, number>();

  update(all: readonly FeedItem[]): Map<string, number> {
    if (!extendsPrefix(this.source, all)) {
      this.source = all;
      return (this.counts = unreadByGroup(all));
    }
    let counts = this.counts;
    for (let i = this.source.length; i < all.length; i++) {
      const item = all[i]!;
      if (!isUnread(item)) continue;
      if (counts === this.counts) counts = new Map(counts);
      counts.set(item.groupId, (counts.get(item.groupId) ?? 0) + 1);
    }
    this.source = all;
    return (this.counts = counts);
  }
}
