const FOCUSABLE = 'a[href], button, input, select, textarea, summary, [tabindex]';

/** The elements in `root` that Tab stops at, in document order: enabled, not tabindex -1, rendered. */
export function tabbables(root: ParentNode): HTMLElement[] {
  return [...root.querySelectorAll<HTMLElement>(FOCUSABLE)].filter(
    (element) => element.tabIndex >= 0 && !element.matches(':disabled') && element.getClientRects().length > 0,
  );
}
