import { describe, expect, it } from "vitest";
import { type FeedItem, recordType } from "../../src/feed/engine";
import { isUnread, ThreadIndex, threads, UnreadIndex, unreadByGroup } from "../../src/feed/threads";

const G = "0b5e0000-0000-4000-8000-000000000001";
const H = "0b5e0000-0000-4000-8000-000000000002";
const ref = { senderDeviceId: G, messageId: H };

function item(seq: number, extra: Partial<FeedItem> = {}): FeedItem {
  return { seq, groupId: G, urgent: false, senderUserId: null, createdAt: "", text: `t${seq}`, refused: null, mine: false, ref, ...extra };
}

describe("threads", () => {
  it("gathers replies (and replies to replies) under their root, newest root first", () => {
    const all = [item(1), item(2, { parentSeq: 1 }), item(3), item(4, { parentSeq: 2 }), item(5, { groupId: H })];
    const got = threads(all, G);
    expect(got.map((th) => th.root.seq)).toEqual([3, 1]);
    expect(got[1]!.replies.map((r) => r.seq)).toEqual([2, 4]);
  });

  it("shows a reply whose parent is not here as its own root, and never loops on a forged parent", () => {
    const got = threads([item(7, { parentSeq: 3 }), item(8, { parentSeq: 9 }), item(9, { parentSeq: 8 })], G);
    expect(got.map((th) => th.root.seq).sort()).toEqual([7, 8]);
    expect(got.find((th) => th.root.seq === 8)!.replies.map((r) => r.seq)).toEqual([9]);
  });
});

describe("unread", () => {
  it("counts verified items from others not yet read, per group", () => {
    const all = [item(1), item(2, { read: true }), item(3, { mine: true }), item(4, { refused: "crypto.signature: x", text: null }), item(5, { ref: undefined }), item(6, { groupId: H })];
    expect(all.filter(isUnread).map((i) => i.seq)).toEqual([1, 6]);
    expect(unreadByGroup(all)).toEqual(new Map([[G, 1], [H, 1]]));
  });
});

describe("incremental threads and counts (one pushed item at a time)", () => {
  it("give the same result as the full computation after each push, a read mark and out-of-order seqs", () => {
    const index = new ThreadIndex();
    const unread = new UnreadIndex();
    let all: FeedItem[] = [];
    const check = () => {
      expect(index.update(all, G)).toEqual(threads(all, G));
      expect(unread.update(all)).toEqual(unreadByGroup(all));
      for (const th of threads(all, G)) expect(index.get(th.key)).toEqual(th);
    };
    check();
    // Roots, replies, replies to replies, a forged (later) parent, another group, one by one.
    const pushes = [item(1), item(2, { parentSeq: 1 }), item(3), item(4, { parentSeq: 2 }), item(5, { groupId: H }), item(6, { parentSeq: 9 }), item(7, { parentSeq: 3, mine: true }), item(8, { parentSeq: 6 })];
    for (const pushed of pushes) {
      all = [...all, pushed];
      check();
    }
    all = [...all, item(9, { parentSeq: 1 }), item(10), item(11, { parentSeq: 10 })]; // a batch at once
    check();
    all = all.map((i) => (i.seq === 2 ? { ...i, read: true } : i)); // replaced, not appended
    check();
    all = [...all, item(5, { parentSeq: 4 })]; // an older seq arriving late: regrouped in full
    check();
    const before = index.update(all, G);
    expect(index.update([...all], G)).toBe(before); // nothing new: the same list, not a copy
  });
});

describe("recordType (template content or plain text)", () => {
  const bytes = (s: string) => new TextEncoder().encode(s);
  it("names template content, with leading whitespace or a BOM, and leaves text and other JSON alone", () => {
    expect(recordType(bytes('{"type": "seizure_case", "template": "seizure-case", "data": {}}'))).toBe("seizure_case");
    expect(recordType(bytes(' \n\t{"type": "reply", "template": "t"}'))).toBe("reply");
    expect(recordType(new Uint8Array([0xef, 0xbb, 0xbf, ...bytes('{"type": "reply", "template": "t"}')]))).toBe("reply");
    for (const text of ["Backlog alert 12", "", "   ", '{"type": "x"}', '["template"]', "{not json", '"{"', "42"]) expect(recordType(bytes(text)), text).toBeNull();
    expect(recordType(new Uint8Array([0x7b, 0xff]))).toBeNull(); // not UTF-8
  });
});
