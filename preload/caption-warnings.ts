/**
 * What the model will not see as the reviewer meant it: a caption cut at the model's word limit, and
 * a caption that is not English (OFA-VE was fine-tuned on English SNLI-VE only). The service attaches
 * these to every check result (`warnings`) and the checker shows them before a row is sent, so both
 * sides import this one module. Pure: no DOM, no Node APIs.
 */
import { LEADING_PUNCTUATION, normalizeCaption } from './caption-normalize.ts';
import type { CheckWarning } from './wire-types.ts';

export interface CaptionCut {
  /** Words as OFA's pre_caption counts them (after its normalisation). */
  words: number;
  /** The model's limit (`max_words` in model.json). */
  maxWords: number;
  /** Index in the original caption of the first character the model does not see. */
  cutAt: number;
}

/** Characters OFA turns into a space (`-`, `/`) or that already are one. */
const SPACE_LIKE = /[ \-/]/;

/**
 * Start offsets (in `caption`) of the words OFA's pre_caption keeps, in order. It lower-cases,
 * strips leading marks, turns `-` and `/` into spaces, collapses runs of two or more whitespace
 * characters into one space, trims spaces and splits on single spaces: so a separator is a run of
 * space-like characters, or any whitespace run of two or more (a lone tab stays inside a word).
 */
export function wordStarts(caption: string): number[] {
  const spaceLike = (ch: string) => /\s|[-/]/.test(ch);
  const starts: number[] = [];
  let inWord = false;
  const end = caption.length;
  let i = LEADING_PUNCTUATION.exec(caption)?.[0].length ?? 0;
  while (i < end) {
    if (!spaceLike(caption[i] as string)) {
      if (!inWord) starts.push(i);
      inWord = true;
      i++;
      continue;
    }
    let j = i;
    while (j < end && spaceLike(caption[j] as string)) j++;
    // pre_caption also drops a trailing newline, which a lone one escapes the collapse to reach.
    if (j - i >= 2 || SPACE_LIKE.test(caption[i] as string) || (j === end && caption[i] === '\n')) {
      inWord = false;
    } else if (!inWord) {
      starts.push(i);
      inWord = true;
    }
    i = j;
  }
  return starts;
}

/** Where OFA's word limit cuts the caption, or undefined when it fits. */
export function captionCut(caption: string, maxWords: number): CaptionCut | undefined {
  const starts = wordStarts(caption);
  if (starts.length <= maxWords) return undefined;
  return { words: starts.length, maxWords, cutAt: starts[maxWords] as number };
}

/**
 * A character that is not punctuation, a space or a control character: a letter, digit, symbol or
 * emoji, something to check against the image (OFA keeps "..." when spaces precede it).
 */
const SOMETHING_TO_CHECK = /[^\p{P}\p{Z}\p{C}\s]/u;

/**
 * The service's rule (EMPTY_TEXT) on the text the model reads, after OFA's normalisation (which has
 * already cut it at the word limit): nothing but punctuation, spaces or control characters.
 */
export function isWordless(normalized: string): boolean {
  return !SOMETHING_TO_CHECK.test(normalized);
}

/**
 * The same rule on a text as typed, before it is sent: true when the service would find no word in
 * what the model reads of it (OFA's normalisation, cut at `maxWords` when the limit is known).
 */
export function hasNothingToCheck(text: string, maxWords = Number.POSITIVE_INFINITY): boolean {
  return isWordless(normalizeCaption(text, maxWords));
}

// Function words that are frequent in captions in each language and are not English words too
// ("a", "in", "de", "die", "son" are left out on purpose: they are words in both).
const ENGLISH_WORDS = new Set(
  'the of and on with at to is are an his her their its it this that from by two three four near while into over under there some man woman men women people dog cat person boy girl child children sitting standing playing holding wearing walking riding looking'.split(
    ' ',
  ),
);
const FOREIGN_WORDS = new Set(
  // French, Spanish, Portuguese, Italian, German, Dutch.
  (
    'le la les des du une un et est sont dans sur avec deux trois homme femme chien chat ' +
    'el los las y con una uno dos tres es está están hombre mujer perro gato ' +
    'o os um uma com em são dois duas homem mulher cão ' +
    'il lo gli della nel sul uomo donna cane gatto ' +
    'der das und ist sind im mit ein eine einen zwei drei auf mann frau hund katze ' +
    'het een van en op zijn twee drie vrouw'
  ).split(' '),
);
for (const word of ENGLISH_WORDS) FOREIGN_WORDS.delete(word);

const LETTER = /\p{L}/gu;
const LATIN_LETTER = /\p{Script=Latin}/u;
const HAN_OR_KANA = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]/u;
const HANGUL = /\p{Script=Hangul}/u;

/** A caption's letters, each weighted by about how much of a word it carries (see letterWeights). */
export interface WeightedLetters {
  readonly all: number;
  /** Letters of scripts other than Latin (CJK, Arabic, Cyrillic, Greek, Hebrew, Devanagari, Thai, Hangul, ...). */
  readonly nonLatin: number;
  /** Han, kana and Hangul. */
  readonly cjk: number;
}

/**
 * Letters counted by what they carry: a Han character or a kana is most of a word (3 Latin
 * letters' worth), a Hangul syllable a few letters (2), any other letter 1. Counted plainly,
 * "两只狗在雪地里玩耍 dogs playing" was mostly Latin (11 letters to 9) and read as English.
 */
export function letterWeights(caption: string): WeightedLetters {
  let all = 0;
  let nonLatin = 0;
  let cjk = 0;
  for (const [letter] of caption.matchAll(LETTER)) {
    if (LATIN_LETTER.test(letter)) {
      all += 1;
      continue;
    }
    const weight = HAN_OR_KANA.test(letter) ? 3 : HANGUL.test(letter) ? 2 : 1;
    all += weight;
    nonLatin += weight;
    if (weight > 1) cjk += weight;
  }
  return { all, nonLatin, cjk };
}

/**
 * True when the caption is evidently not English: most of its letters (letterWeights) are in
 * another script, or it has at least two function words of another common language and more of
 * them than English ones. Deliberately conservative: a short English caption must never be flagged
 * (trigram language identifiers such as franc misread captions like "people at a concert" as French).
 */
export function looksNonEnglish(caption: string): boolean {
  const letters = letterWeights(caption);
  if (letters.all === 0) return false;
  if (letters.nonLatin / letters.all > 0.5) return true;
  const words =
    caption
      .toLowerCase()
      .normalize('NFC')
      .match(/\p{L}+/gu) ?? [];
  let english = 0;
  let foreign = 0;
  for (const word of words) {
    if (ENGLISH_WORDS.has(word)) english++;
    else if (FOREIGN_WORDS.has(word)) foreign++;
  }
  return foreign >= 2 && foreign > english;
}

/** The last few words the model still reads, cut at a word start so the quote reads well. */
function lastWords(text: string, max = 40): string {
  const trimmed = text.trimEnd();
  if (trimmed.length <= max) return trimmed.trimStart();
  const tail = trimmed.slice(-max);
  const start = tail.search(/\s\S/u);
  return `…${start >= 0 ? tail.slice(start + 1) : tail}`;
}

/**
 * The warnings for one check, in a fixed order (truncation first). `premise` is checked the same
 * way as the caption, since the model reads both.
 */
export function captionWarnings(caption: string, maxWords: number, premise?: string): CheckWarning[] {
  const warnings: CheckWarning[] = [];
  const fields: [string, string | undefined][] = [
    ['caption', caption],
    ['premise', premise],
  ];
  for (const [field, text] of fields) {
    if (!text) continue;
    const cut = captionCut(text, maxWords);
    if (cut) {
      warnings.push({
        code: 'CAPTION_TRUNCATED',
        message: `the ${field} has ${cut.words} words; the model reads only the first ${maxWords}, up to "${lastWords(text.slice(0, cut.cutAt))}"`,
      });
    }
  }
  for (const [field, text] of fields) {
    if (text && looksNonEnglish(text)) {
      warnings.push({
        code: 'NOT_ENGLISH',
        message: `the ${field} does not look like English; OFA-VE was trained on English captions only and its answer may mean little`,
      });
    }
  }
  return warnings;
}
