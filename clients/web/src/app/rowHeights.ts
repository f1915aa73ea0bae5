/**
 * The row offsets of `VirtualList`, kept per change instead of re-summed over every row: a
 * Fenwick tree (binary indexed tree) of heights, indexed from the *last* row, because a feed
 * grows at the top (newest first) and a row grown at the top is then one leaf appended. A
 * measured height is one update, an offset one sum, both O(log n); anything else (rows
 * removed, reordered) rebuilds in O(n). Same figures as summing the heights in order
 * (tests/unit/row_heights.test.ts). No DOM: the list measures, this adds up.
 */
export class RowHeights {
  /** Row keys from the bottom (the last row first): the tree's positions. */
  private fromEnd: string[] = [];
  private position = new Map<string, number>();
  /** Fenwick tree over `fromEnd`, 1-based. */
  private tree = new Float64Array(1);
  private sizes: number[] = [];
  private measured = new Map<string, number>();

  constructor(private readonly estimate: number) {}

  get length(): number {
    return this.fromEnd.length;
  }

  /**
   * Follow the list's rows (in display order). Rows added above the old ones (or none added)
   * cost O(added) plus a pointer check; anything else rebuilds.
   */
  sync(keys: readonly string[]): void {
    const old = this.fromEnd.length;
    const added = keys.length - old;
    let extends_ = added >= 0;
    for (let j = 0; extends_ && j < old; j++) if (keys[keys.length - 1 - j] !== this.fromEnd[j]) extends_ = false;
    if (!extends_) return this.rebuild(keys);
    for (let i = added - 1; i >= 0; i--) this.append(keys[i]!);
  }

  /** A row's measured height; returns whether it changed. */
  set(key: string, height: number): boolean {
    if (this.measured.get(key) === height) return false;
    this.measured.set(key, height);
    const at = this.position.get(key);
    if (at !== undefined) this.add(at, height - this.sizes[at]!);
    return true;
  }

  /** Sum of the heights of display rows [0, i). */
  offset(i: number): number {
    return this.sum(this.fromEnd.length) - this.sum(this.fromEnd.length - i);
  }

  /** The first display row whose bottom is below `y` (`length` when none). */
  rowAt(y: number): number {
    const n = this.fromEnd.length;
    // Display row r (position p = n - 1 - r from the end) has its bottom below `y` when the
    // rows under it add up to less than total - y: the largest such p (a Fenwick descent
    // finds the largest count of positions summing below it) gives the first such r.
    const below = this.sum(n) - y;
    if (n === 0 || below <= 0) return n;
    let k = 0;
    let left = below;
    for (let step = highBit(n); step; step >>= 1) {
      if (k + step <= n && this.tree[k + step]! < left) {
        k += step;
        left -= this.tree[k]!;
      }
    }
    return n - 1 - Math.min(k, n - 1);
  }

  private heightOf(key: string): number {
    return this.measured.get(key) ?? this.estimate;
  }

  private append(key: string): void {
    const at = this.fromEnd.length;
    this.fromEnd.push(key);
    this.position.set(key, at);
    const h = this.heightOf(key);
    this.sizes.push(h);
    if (this.tree.length < at + 2) {
      const grown = new Float64Array(Math.max(16, this.tree.length * 2));
      grown.set(this.tree);
      this.tree = grown;
    }
    // The new leaf's node holds its own height plus the nodes it covers below it.
    const i = at + 1;
    let node = h;
    for (let below = 1; below < (i & -i); below <<= 1) node += this.tree[i - below]!;
    this.tree[i] = node;
  }

  private rebuild(keys: readonly string[]): void {
    this.fromEnd = [];
    this.position.clear();
    this.sizes = [];
    this.tree = new Float64Array(keys.length + 1);
    for (let i = keys.length - 1; i >= 0; i--) this.append(keys[i]!);
  }

  private add(at: number, delta: number): void {
    this.sizes[at]! += delta;
    for (let i = at + 1; i <= this.fromEnd.length; i += i & -i) this.tree[i]! += delta;
  }

  /** Sum of the first `count` positions (the last `count` display rows). */
  private sum(count: number): number {
    let s = 0;
    for (let i = count; i > 0; i -= i & -i) s += this.tree[i]!;
    return s;
  }
}

function highBit(n: number): number {
  let b = 1;
  while (b * 2 <= n) b *= 2;
  return n ? b : 0;
}
