const FOCUSABLE = 'a[href], button, input, select, textarea, summary, [tabindex]';

/** The elements in `root` that Tab stops at, in document order: enabled, not tabindex -1, rendered. */
export function tabbables(root: ParentNode): HTMLElement[] {
  return [...root.querySelectorAll<HTMLElement>(FOCUSABLE)].filter(
    (element) => element.tabIndex >= 0 && !element.matches(':disabled') && element.getClientRects().length > 0,
  );
}

/** A press of Tab whose focus move is under way: which way, and from where. */
export interface TabPress {
  readonly shift: boolean;
  /**
   * Where the browser starts looking for the next element: the focused one, else (nothing focused)
   * the element last focused or pressed with the pointer, as the browser's sequential focus
   * navigation starting point is; null when there was none (the browser starts at the page's edge).
   */
  readonly from: Element | null;
}

/**
 * Watches `win` for Tab presses. `current()` is the press whose focus move is under way (the
 * browser moves the focus, firing focus events, in the key press's own task), undefined at any
 * other time: a focus from a click or a script is no Tab press. `stop()` removes the listeners.
 */
export function watchTabPresses(win: Window): { current: () => TabPress | undefined; stop: () => void } {
  let press: TabPress | undefined;
  let start: Element | null = null;
  const remember = (event: Event) => {
    if (event.target instanceof Element) start = event.target;
  };
  const onKeyDown = (event: KeyboardEvent) => {
    if (event.key !== 'Tab' || event.altKey || event.ctrlKey || event.metaKey) return;
    const active = win.document.activeElement;
    const current: TabPress = { shift: event.shiftKey, from: active && active !== win.document.body ? active : start };
    press = current;
    win.setTimeout(() => {
      if (press === current) press = undefined;
    }, 0);
  };
  win.addEventListener('keydown', onKeyDown, true);
  win.addEventListener('focusin', remember, true);
  win.addEventListener('pointerdown', remember, true);
  return {
    current: () => press,
    stop: () => {
      win.removeEventListener('keydown', onKeyDown, true);
      win.removeEventListener('focusin', remember, true);
      win.removeEventListener('pointerdown', remember, true);
    },
  };
}
