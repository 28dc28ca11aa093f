/**
 * Input slices: every check is classified by a small fixed set of attributes of its input, so the
 * live stats can say which inputs are slow ("CJK captions tokenize ten times slower"). Each
 * attribute is sliced on its own (5 attributes × ≤ 6 values), never their product, which keeps the
 * cost per check and the memory fixed. Pure: the service computes `InputAttributes` once per check
 * (`describeInput`), LiveStats turns them into one slice index per attribute (`sliceIndices`).
 */
import { letterWeights, looksNonEnglish } from '../../preload/caption-warnings.ts';
import { SLICE_ATTRIBUTES, type SliceAttribute } from '../../preload/wire-types.ts';

// One definition, in the wire contract (the dashboard's attribute picker reads it too).
export { SLICE_ATTRIBUTES, type SliceAttribute } from '../../preload/wire-types.ts';

/** A slice for checks whose attribute was not known (refused before it was computed, or not reported). */
export const UNKNOWN_SLICE = 'unknown';

/** The slices of each attribute, in display order; `unknown` is always last. At most 255 per attribute. */
export const SLICE_VALUES = {
  caption_script: ['english', 'cjk', 'other', UNKNOWN_SLICE],
  caption_tokens: ['0-8', '9-16', '17-32', '33+', UNKNOWN_SLICE],
  image_size: ['<0.25MP', '0.25-1MP', '1-4MP', '4MP+', UNKNOWN_SLICE],
  image_format: ['jpeg', 'png', 'webp', 'gif', 'other', UNKNOWN_SLICE],
  premise: ['no', 'yes', UNKNOWN_SLICE],
} as const satisfies Record<SliceAttribute, readonly string[]>;

export const ATTRIBUTE_COUNT = SLICE_ATTRIBUTES.length;

export type CaptionScript = 'english' | 'cjk' | 'other';

/** What is known of one check's input; every field may be missing (its slice is then `unknown`). */
export interface InputAttributes {
  /** `captionScript(text)`. */
  captionScript?: CaptionScript;
  /**
   * BPE tokens of the caption alone as the worker's tokenizer counts them: after OFA's caption
   * normalisation and word limit, without the prompt template and without bos/eos.
   */
  captionTokens?: number;
  /** Width × height of the image as decoded (first frame). */
  imagePixels?: number;
  /** The format its leading bytes say (`sniffImageFormat`): jpeg, png, webp and gif are slices, the rest is `other`. */
  imageFormat?: string;
  /** Whether the check had a premise (text1), i.e. used the premise prompt. */
  premise?: boolean;
}

const TOKEN_EDGES = [8, 16, 32]; // upper bounds (inclusive) of 0-8, 9-16, 17-32
const PIXEL_EDGES = [250_000, 1_000_000, 4_000_000]; // upper bounds (exclusive); 480×480 = 230,400 is in the first
const FORMAT_SLICES: readonly string[] = ['jpeg', 'png', 'webp', 'gif'];

/**
 * English when the caption would not draw the NOT_ENGLISH warning (`looksNonEnglish`, the same rule);
 * otherwise CJK when most of its letters (weighted as that rule weighs them) are Han, kana or Hangul,
 * the scripts whose captions OFA's byte-level BPE splits into many more tokens; else other. No
 * letters at all (digits, emoji) is other.
 */
export function captionScript(text: string): CaptionScript {
  const letters = letterWeights(text);
  if (letters.all === 0) return 'other';
  if (!looksNonEnglish(text)) return 'english';
  return letters.cjk * 2 > letters.all ? 'cjk' : 'other';
}

/** What the service knows of a check's input, for `describeInput`. */
export interface InputFacts {
  text?: string;
  premise?: string;
  /** `sniffImageFormat(image)`: the supported format, or anything else for an unsupported or unknown file. */
  imageFormat?: string;
  captionTokens?: number;
  imageWidth?: number;
  imageHeight?: number;
}

/** The attributes of one check from what the service knows of it (missing facts stay unknown). */
export function describeInput(facts: InputFacts): InputAttributes {
  const attributes: InputAttributes = {};
  if (typeof facts.text === 'string') {
    attributes.captionScript = captionScript(facts.text);
    attributes.premise = typeof facts.premise === 'string' && facts.premise.trim() !== '';
  }
  if (facts.imageFormat !== undefined) attributes.imageFormat = facts.imageFormat;
  if (facts.captionTokens !== undefined) attributes.captionTokens = facts.captionTokens;
  if (facts.imageWidth !== undefined && facts.imageHeight !== undefined) attributes.imagePixels = facts.imageWidth * facts.imageHeight;
  return attributes;
}

const isCount = (n: unknown): n is number => typeof n === 'number' && n >= 0 && n < Infinity;

function bucketOf(value: number, edges: readonly number[], inclusive: boolean): number {
  let i = 0;
  while (i < edges.length && (inclusive ? value > edges[i]! : value >= edges[i]!)) i++;
  return i;
}

const UNKNOWN_INDEX = SLICE_ATTRIBUTES.map((attribute) => SLICE_VALUES[attribute].length - 1);

/**
 * Writes into `out` (one slot per attribute, SLICE_ATTRIBUTES order) the index of the slice the
 * check falls in, in SLICE_VALUES order. Hot path: no allocation.
 */
export function sliceIndices(attributes: InputAttributes | undefined, out: Uint8Array): void {
  const a = attributes ?? {};
  const script = a.captionScript;
  out[0] = script === 'english' ? 0 : script === 'cjk' ? 1 : script === 'other' ? 2 : UNKNOWN_INDEX[0]!;
  out[1] = isCount(a.captionTokens) ? bucketOf(a.captionTokens, TOKEN_EDGES, true) : UNKNOWN_INDEX[1]!;
  out[2] = isCount(a.imagePixels) ? bucketOf(a.imagePixels, PIXEL_EDGES, false) : UNKNOWN_INDEX[2]!;
  if (typeof a.imageFormat === 'string') {
    const format = FORMAT_SLICES.indexOf(a.imageFormat);
    out[3] = format >= 0 ? format : FORMAT_SLICES.length; // other
  } else {
    out[3] = UNKNOWN_INDEX[3]!;
  }
  out[4] = a.premise === true ? 1 : a.premise === false ? 0 : UNKNOWN_INDEX[4]!;
}

/** Index of `attribute` in SLICE_ATTRIBUTES; throws a RangeError naming the valid ones otherwise. */
export function attributeIndex(attribute: string): number {
  const index = (SLICE_ATTRIBUTES as readonly string[]).indexOf(attribute);
  if (index < 0) throw new RangeError(`unknown slice attribute "${attribute}"; one of ${SLICE_ATTRIBUTES.join(', ')}`);
  return index;
}

export function isSliceAttribute(value: unknown): value is SliceAttribute {
  return typeof value === 'string' && (SLICE_ATTRIBUTES as readonly string[]).includes(value);
}

/** The slice names of the attribute at `index`. */
export function sliceValues(index: number): readonly string[] {
  return SLICE_VALUES[SLICE_ATTRIBUTES[index]!];
}
