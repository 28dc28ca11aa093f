/**
 * OFA's caption normalisation (`pre_caption` in OFA's data/mm_data/snli_ve_dataset.py), kept
 * character for character: only runs of two or more whitespace characters are collapsed and only
 * spaces are trimmed, exactly as the Python does, because the ids must equal OFA's. Here, in
 * preload/, because the checker applies the service's empty-caption rule to it before sending
 * (caption-warnings.ts). Pure: no DOM, no Node APIs.
 */

/** Leading marks pre_caption strips. */
export const LEADING_PUNCTUATION = /^[,.!?*#:;~]+/;

export function normalizeCaption(caption: string, maxWords: number): string {
  let text = caption.toLowerCase().replace(LEADING_PUNCTUATION, '');
  text = text.replaceAll('-', ' ').replaceAll('/', ' ').replaceAll('<person>', 'person');
  text = text.replace(/\s{2,}/gu, ' ');
  text = text.replace(/\n+$/u, '');
  text = text.replace(/^ +| +$/gu, '');
  const words = text.split(' ');
  return words.length > maxWords ? words.slice(0, maxWords).join(' ') : text;
}
