import {
  useCallback,
  useEffect,
  useLayoutEffect,
  useReducer,
  useRef,
  useState,
  type FocusEvent,
  type KeyboardEvent,
  type RefObject,
} from 'react';
import { flushSync } from 'react-dom';
import { defaultRangeExtractor, useVirtualizer, type Rect, type VirtualItem, type Virtualizer } from '@tanstack/react-virtual';
import { tabbables, watchTabPresses, type TabPress } from './tabbables.ts';
import { keptFor } from './view-memory.ts';

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

/**
 * What a table's window keeps while it is not in the page (the other tab is shown): the rows'
 * measured heights (keyed by row key), where it was scrolled, and the pane's size and the table's
 * place in it, so that coming back renders the same rows at the same places in the first frame.
 */
export interface WindowMemory {
  measured: VirtualItem[];
  offset: number | undefined;
  rect: Rect | undefined;
  margin: number;
}

/** The memory of the window of `owner`'s table (the checker's store: it lives as long as the page). */
export function windowMemoryFor(owner: object): WindowMemory {
  return keptFor(owner, 'row-window', () => ({ measured: [], offset: undefined, rect: undefined, margin: 0 }));
}

export interface RowWindow {
  /** The rows to render, in order, each with the height of the rows left out just above it. */
  readonly rows: readonly { readonly index: number; readonly spaceBefore: number }[];
  /** The height of the rows left out below the last one rendered. */
  readonly spaceAfter: number;
  /** Given as a rendered row's ref (with `data-index`): its real height replaces the estimate. */
  readonly measure: Virtualizer<HTMLElement, Element>['measureElement'];
  /**
   * For the table body: the row holding the focus stays in the page however far it is scrolled, and
   * Tab into the body from outside lands on the real first row (Shift+Tab: the real last row),
   * rendered and scrolled into view, whichever rows are in the page.
   */
  readonly onFocus: (event: FocusEvent<HTMLElement>) => void;
  readonly onBlur: (event: FocusEvent<HTMLElement>) => void;
  /** For the table body: Tab out of a row goes on to the next row (Shift+Tab: the previous), rendered first if it is not. */
  readonly onKeyDown: (event: KeyboardEvent<HTMLElement>) => void;
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
export function useRowWindow(keys: readonly number[], body: RefObject<HTMLElement | null>, memory: WindowMemory): RowWindow {
  const scroller = useRef<HTMLElement | null>(null);
  // Where the table's body starts in the scrolled content: the intake panel and the notices sit above it.
  const [scrollMargin, setScrollMargin] = useState(memory.margin);
  // What the last mount left (read once: the virtualizer reads its initial options once too).
  const [restored] = useState(() => ({ ...memory }));
  const [, rerender] = useReducer((n: number) => n + 1, 0);
  const latestKeys = useRef(keys);
  latestKeys.current = keys;
  const focusedKey = useRef<number | undefined>(undefined);
  const tabPress = useRef<() => TabPress | undefined>(() => undefined);
  useEffect(() => {
    const watch = watchTabPresses(window);
    tabPress.current = watch.current;
    return () => {
      watch.stop();
      tabPress.current = () => undefined;
    };
  }, []);
  const virtualizer = useVirtualizer({
    count: keys.length,
    getScrollElement: () => (scroller.current ??= scrollParent(body.current)),
    estimateSize: () => ESTIMATED_ROW_PX,
    overscan: OVERSCAN_ROWS,
    scrollMargin,
    initialMeasurementsCache: restored.measured,
    initialOffset: restored.offset,
    initialRect: restored.rect,
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
    memory.margin = margin;
  });
  // Leaving the tab unmounts the table: keep what the next mount starts from.
  useLayoutEffect(
    () => () => {
      memory.measured = virtualizer.takeSnapshot();
      memory.offset = virtualizer.scrollOffset ?? undefined;
      memory.rect = virtualizer.scrollRect ?? undefined;
    },
    [memory, virtualizer],
  );
  /**
   * Renders row `index` now if it is not, pinned as the focused row, and moves the focus to its first
   * or last tabbable element, the row in view; false (nothing moved) if there is no such row or element.
   */
  const focusRow = useCallback(
    (index: number, edge: 'first' | 'last'): boolean => {
      const key = latestKeys.current[index];
      if (key === undefined) return false;
      // Pinned as the focused row is, and rendered before this key press is over, so the focus can go in.
      const pinned = focusedKey.current;
      focusedKey.current = key;
      flushSync(rerender);
      const row = body.current?.querySelector<HTMLElement>(`:scope > tr[data-index="${index}"]`);
      const inRow = row ? tabbables(row) : [];
      const target = edge === 'first' ? inRow[0] : inRow.at(-1);
      if (!row || !target) {
        focusedKey.current = pinned;
        return false;
      }
      target.focus({ preventScroll: true });
      row.scrollIntoView({ block: 'nearest' });
      return true;
    },
    [body],
  );
  const onFocus = useCallback(
    (event: FocusEvent<HTMLElement>) => {
      const index = rowIndexOf(event.target);
      if (index === undefined) return;
      // Tab from outside the body lands on the first row in the page (Shift+Tab: the last), which
      // need not be the real first (last) row: on to that one. A focus from a click or a script stays.
      // Not handled: Tab after the element it starts from has left the page (a row clicked, then
      // scrolled far away): the browser's own order applies, from the rows in the page.
      const press = tabPress.current();
      const rows = event.currentTarget;
      if (press && (press.from === null || (press.from.isConnected && !rows.contains(press.from)))) {
        // Where Tab started: with nothing focused or pressed yet, the page's edge the key goes from.
        const before = press.from ? (rows.compareDocumentPosition(press.from) & Node.DOCUMENT_POSITION_PRECEDING) !== 0 : !press.shift;
        const last = latestKeys.current.length - 1;
        if (!press.shift && before && index !== 0 && focusRow(0, 'first')) return;
        if (press.shift && !before && index !== last && focusRow(last, 'last')) return;
      }
      focusedKey.current = latestKeys.current[index];
    },
    [focusRow],
  );
  const onBlur = useCallback((event: FocusEvent<HTMLElement>) => {
    if (rowIndexOf(event.relatedTarget) === undefined) focusedKey.current = undefined;
  }, []);
  const onKeyDown = useCallback(
    (event: KeyboardEvent<HTMLElement>) => {
      if (event.key !== 'Tab' || event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey) return;
      const row = event.target instanceof Element ? event.target.closest<HTMLElement>('tr[data-index]') : null;
      if (!row || row.parentElement !== event.currentTarget) return;
      const next = Number(row.dataset.index) + (event.shiftKey ? -1 : 1);
      // Past the table's ends, or into a row in the page: the browser's own Tab order is right.
      if (next < 0 || next >= latestKeys.current.length || event.currentTarget.querySelector(`:scope > tr[data-index="${next}"]`)) return;
      const inRow = tabbables(row);
      if (event.target !== (event.shiftKey ? inRow[0] : inRow.at(-1))) return;
      if (focusRow(next, event.shiftKey ? 'last' : 'first')) event.preventDefault();
    },
    [focusRow],
  );
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
    onKeyDown,
  };
}
