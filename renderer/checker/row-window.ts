import { useLayoutEffect, useRef, useState, type RefObject } from 'react';
import { useVirtualizer, type Virtualizer } from '@tanstack/react-virtual';

/**
 * Rows kept in the page beyond the visible ones, on each side. A reviewer drops thousands of
 * images: with every row in the page, each batch of answers re-laid out the whole table (about
 * 15 ms a layout at 2,000 rows) and the page took a core from the model on a 2-core machine
 * (13 checks/s where the service answers 66). A few dozen rows beyond the view keep a table of
 * that size whole in the page (find in page, tab order), and thousands cost what a hundred do.
 */
export const OVERSCAN_ROWS = 60;
/** A row's height before it is measured: one with a thumbnail and a one-line caption. */
const ESTIMATED_ROW_PX = 64;

/** The element that scrolls the table: the nearest ancestor that scrolls, else the page. */
function scrollParent(element: HTMLElement | null): HTMLElement | null {
  for (let parent = element?.parentElement; parent; parent = parent.parentElement) {
    const { overflowY } = getComputedStyle(parent);
    if (overflowY === 'auto' || overflowY === 'scroll') return parent;
  }
  return document.scrollingElement instanceof HTMLElement ? document.scrollingElement : null;
}

export interface RowWindow {
  /** Indexes of the rows to render, in order. */
  readonly indexes: readonly number[];
  /** Heights of the spacer rows standing in for the rows above and below them. */
  readonly spaceAbove: number;
  readonly spaceBelow: number;
  /** Given as a rendered row's ref (with `data-index`): its real height replaces the estimate. */
  readonly measure: Virtualizer<HTMLElement, Element>['measureElement'];
}

/**
 * Which of `keys.length` table rows to render: those in view in the scrolling ancestor of `body`,
 * and OVERSCAN_ROWS on each side (TanStack Virtual). `keys` identify the rows across re-sorts,
 * so a measured height stays with its row.
 */
export function useRowWindow(keys: readonly number[], body: RefObject<HTMLElement | null>): RowWindow {
  const scroller = useRef<HTMLElement | null>(null);
  // Where the table's body starts in the scrolled content: the intake panel and the notices sit above it.
  const [scrollMargin, setScrollMargin] = useState(0);
  const virtualizer = useVirtualizer({
    count: keys.length,
    getScrollElement: () => (scroller.current ??= scrollParent(body.current)),
    estimateSize: () => ESTIMATED_ROW_PX,
    overscan: OVERSCAN_ROWS,
    scrollMargin,
    getItemKey: (index) => keys[index] ?? index,
  });
  useLayoutEffect(() => {
    const element = body.current;
    const scrolling = scroller.current ?? scrollParent(element);
    if (!element || !scrolling) return;
    const margin = Math.round(element.getBoundingClientRect().top - scrolling.getBoundingClientRect().top + scrolling.scrollTop);
    if (Math.abs(margin - scrollMargin) >= 1) setScrollMargin(margin);
  });
  const items = virtualizer.getVirtualItems();
  const first = items[0];
  const last = items[items.length - 1];
  return {
    indexes: items.map((item) => item.index),
    // Item offsets count the scroll margin; the total size does not.
    spaceAbove: first ? Math.max(0, first.start - scrollMargin) : 0,
    spaceBelow: last ? Math.max(0, virtualizer.getTotalSize() - (last.end - scrollMargin)) : 0,
    measure: virtualizer.measureElement,
  };
}
