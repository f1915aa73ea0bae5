/**
 * A tiny windowing list: of thousands of rows only those in (and just around) its scroll box
 * are in the DOM; spacers above and below stand for the rest. Rows may differ in height:
 * each rendered row is measured with a ResizeObserver and unmeasured ones count as `estimate`.
 * No dependency: the platform's scroll events, ResizeObserver and the row offsets kept per
 * change (`RowHeights`: a pushed row or a measured one is O(log n), not a re-sum of every
 * row) are all it takes, and spacer heights are set through the CSSOM (the
 * Content-Security-Policy refuses `style=` attributes).
 */
import type { ComponentChildren } from "preact";
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from "preact/hooks";
import { RowHeights } from "./rowHeights";

interface Props<T> {
  rows: readonly T[];
  rowKey: (row: T) => string;
  render: (row: T) => ComponentChildren;
  label: string;
  class?: string;
  estimate?: number;
  overscan?: number;
  /** Keys of the rows now inside the scroll box (not the overscan). */
  onVisible?: (keys: string[]) => void;
}

export function VirtualList<T>({ rows, rowKey, render, label, class: className, estimate = 120, overscan = 4, onVisible }: Props<T>) {
  const box = useRef<HTMLDivElement>(null);
  const above = useRef<HTMLDivElement>(null);
  const below = useRef<HTMLDivElement>(null);
  const heights = useMemo(() => new RowHeights(estimate), []);
  const [view, setView] = useState({ top: 0, height: 800 });
  const [, setMeasured] = useState(0);

  const keys = useMemo(() => rows.map(rowKey), [rows]);
  useMemo(() => heights.sync(keys), [keys]);
  const rowAt = (y: number) => heights.rowAt(y);
  const first = rowAt(view.top);
  const last = Math.min(keys.length, rowAt(view.top + view.height) + 1);
  const start = Math.max(0, first - overscan);
  const end = Math.min(keys.length, last + overscan);

  useLayoutEffect(() => {
    above.current!.style.height = `${heights.offset(start)}px`;
    below.current!.style.height = `${heights.offset(keys.length) - heights.offset(end)}px`;
  });

  const observer = useMemo(
    () =>
      typeof ResizeObserver === "undefined"
        ? null
        : new ResizeObserver((entries) => {
            let changed = false;
            for (const entry of entries) {
              const key = (entry.target as HTMLElement).dataset.rowKey;
              const height = (entry.target as HTMLElement).offsetHeight;
              if (key && height && heights.set(key, height)) changed = true;
            }
            if (changed) setMeasured((n) => n + 1);
          }),
    [],
  );
  useEffect(() => () => observer?.disconnect(), [observer]);

  useLayoutEffect(() => {
    const el = box.current!;
    const update = () => setView({ top: el.scrollTop, height: el.clientHeight || 800 });
    update();
    el.addEventListener("scroll", update, { passive: true });
    return () => el.removeEventListener("scroll", update);
  }, []);

  const visible = keys.slice(first, last).join("\n");
  useEffect(() => {
    if (onVisible) onVisible(visible ? visible.split("\n") : []);
  }, [visible, onVisible]);

  const shown = rows.slice(start, end);
  return (
    <div ref={box} class="vlist" tabIndex={0} role="region" aria-label={label}>
      <div ref={above} aria-hidden="true" />
      <ol class={className} aria-label={label}>
        {shown.map((row, i) => (
          <Row key={keys[start + i]} rowKey={keys[start + i]!} observer={observer} pos={start + i + 1} size={keys.length}>
            {render(row)}
          </Row>
        ))}
      </ol>
      <div ref={below} aria-hidden="true" />
    </div>
  );
}

function Row({ rowKey, observer, pos, size, children }: { rowKey: string; observer: ResizeObserver | null; pos: number; size: number; children: ComponentChildren }) {
  const ref = useRef<HTMLLIElement>(null);
  useLayoutEffect(() => {
    const el = ref.current!;
    observer?.observe(el);
    return () => observer?.unobserve(el);
  }, [observer]);
  return (
    <li ref={ref} data-row-key={rowKey} aria-setsize={size} aria-posinset={pos}>
      {children}
    </li>
  );
}
