import { useCallback, useLayoutEffect, useRef, useState, type FocusEvent, type RefObject } from 'react';
import { defaultRangeExtractor, useVirtualizer, type Virtualizer } from '@tanstack/react-virtual';

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
  /** The rows to render, in order, each with the height of the rows left out just above it. */
  readonly rows: readonly { readonly index: number; readonly spaceBefore: number }[];
  /** The height of the rows left out below the last one rendered. */
  readonly spaceAfter: number;
  /** Given as a rendered row's ref (with `data-index`): its real height replaces the estimate. */
  readonly measure: Virtualizer<HTMLElement, Element>['measureElement'];
  /** For the table body: the row holding the focus stays in the page however far it is scrolled. */
  readonly onFocus: (event: FocusEvent<HTMLElement>) => void;
  readonly onBlur: (event: FocusEvent<HTMLElement>) => void;
}

/** The index of the table row an element is in (rows carry `data-index`). */
function rowIndexOf(element: EventTarget | null): number | undefined {
  const row = element instanceof Element ? element.closest<HTMLElement>('tr[data-index]') : null;
  return row ? Number(row.dataset.index) : undefined;
}

/**
 * Which of `keys.length` table rows to render: those in view in the scrolling ancestor of `body`,
 * OVERSCAN_ROWS on each side (TanStack Virtual), and the row holding the focus, wherever it is (a
 * caption being typed in a row scrolled far away is neither lost nor left without the focus).
 * `keys` identify the rows across re-sorts, so a measured height stays with its row.
 */
export function useRowWindow(keys: readonly number[], body: RefObject<HTMLElement | null>): RowWindow {
  const scroller = useRef<HTMLElement | null>(null);
  // Where the table's body starts in the scrolled content: the intake panel and the notices sit above it.
  const [scrollMargin, setScrollMargin] = useState(0);
  const latestKeys = useRef(keys);
  latestKeys.current = keys;
  const focusedKey = useRef<number | undefined>(undefined);
  const virtualizer = useVirtualizer({
    count: keys.length,
    getScrollElement: () => (scroller.current ??= scrollParent(body.current)),
    estimateSize: () => ESTIMATED_ROW_PX,
    overscan: OVERSCAN_ROWS,
    scrollMargin,
    getItemKey: (index) => keys[index] ?? index,
    rangeExtractor: (range) => {
      const indexes = defaultRangeExtractor(range);
      const focused = focusedKey.current === undefined ? -1 : latestKeys.current.indexOf(focusedKey.current);
      return focused < 0 || indexes.includes(focused) ? indexes : [...indexes, focused].sort((a, b) => a - b);
    },
  });
  useLayoutEffect(() => {
    const element = body.current;
    const scrolling = scroller.current ?? scrollParent(element);
    if (!element || !scrolling) return;
    const margin = Math.round(element.getBoundingClientRect().top - scrolling.getBoundingClientRect().top + scrolling.scrollTop);
    if (Math.abs(margin - scrollMargin) >= 1) setScrollMargin(margin);
  });
  const onFocus = useCallback((event: FocusEvent<HTMLElement>) => {
    const index = rowIndexOf(event.target);
    focusedKey.current = index === undefined ? undefined : latestKeys.current[index];
  }, []);
  const onBlur = useCallback((event: FocusEvent<HTMLElement>) => {
    if (rowIndexOf(event.relatedTarget) === undefined) focusedKey.current = undefined;
  }, []);
  // Item offsets count the scroll margin; the total size does not.
  let end = scrollMargin;
  const rows = virtualizer.getVirtualItems().map((item) => {
    const spaceBefore = Math.max(0, item.start - end);
    end = item.end;
    return { index: item.index, spaceBefore };
  });
  return {
    rows,
    spaceAfter: rows.length > 0 ? Math.max(0, virtualizer.getTotalSize() + scrollMargin - end) : 0,
    measure: virtualizer.measureElement,
    onFocus,
    onBlur,
  };
}
