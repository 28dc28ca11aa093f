/**
 * A small, deterministic byte-level BPE trainer (GPT-2 style), producing a vocabulary and merges in
 * the layout of a Hugging Face tokenizer.json.
 */

/** GPT-2's pre-tokenisation pattern, which the ByteLevel pre-tokenizer (use_regex) applies too. */
const GPT2_SPLIT = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/**
 * GPT-2's bytes_to_unicode: printable bytes map to themselves, the others to code points from 256
 * upward, so every byte has a visible one-character symbol (a space is `Ġ`). Index = byte value.
 */
export function byteSymbols(): string[] {
  const printable = (b: number): boolean => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const symbols: string[] = [];
  let extra = 0;
  for (let b = 0; b < 256; b += 1) {
    symbols.push(String.fromCodePoint(printable(b) ? b : 256 + extra));
    if (!printable(b)) extra += 1;
  }
  return symbols;
}

/** Pre-tokenises `text` and spells each piece in byte symbols. */
export function byteLevelWords(text: string, symbols: readonly string[]): string[] {
  const encoder = new TextEncoder();
  return (text.match(GPT2_SPLIT) ?? []).map((piece) => Array.from(encoder.encode(piece), (byte) => symbols[byte] as string).join(''));
}

export interface TrainedBpe {
  /** Merges in rank order, as `"left right"` (the format of OFA's tokenizer.json). */
  readonly merges: string[];
  /** The merged symbols, in the order they were learned. */
  readonly mergedTokens: string[];
}

/**
 * Learns up to `maxMerges` merges from weighted texts: repeatedly joins the most frequent adjacent
 * pair, ties broken by code-unit order of the pair, stopping when no pair occurs `minCount` times.
 */
export function trainBpe(texts: ReadonlyArray<{ text: string; weight: number }>, maxMerges: number, minCount: number): TrainedBpe {
  const symbols = byteSymbols();
  const wordCounts = new Map<string, number>();
  for (const { text, weight } of texts) {
    for (const word of byteLevelWords(text, symbols)) wordCounts.set(word, (wordCounts.get(word) ?? 0) + weight);
  }
  // Each distinct word as its current symbol sequence; Map iteration order is insertion order.
  const words = [...wordCounts].map(([word, count]) => ({ parts: Array.from(word), count }));

  const merges: string[] = [];
  const mergedTokens: string[] = [];
  while (merges.length < maxMerges) {
    const pairCounts = new Map<string, number>();
    for (const { parts, count } of words) {
      for (let i = 0; i + 1 < parts.length; i += 1) {
        const pair = `${parts[i]} ${parts[i + 1]}`;
        pairCounts.set(pair, (pairCounts.get(pair) ?? 0) + count);
      }
    }
    let best: string | undefined;
    let bestCount = 0;
    for (const [pair, count] of pairCounts) {
      if (count > bestCount || (count === bestCount && best !== undefined && pair < best)) {
        best = pair;
        bestCount = count;
      }
    }
    if (best === undefined || bestCount < minCount) break;

    const [left, right] = best.split(' ') as [string, string];
    const joined = left + right;
    for (const word of words) {
      const next: string[] = [];
      for (let i = 0; i < word.parts.length; i += 1) {
        if (i + 1 < word.parts.length && word.parts[i] === left && word.parts[i + 1] === right) {
          next.push(joined);
          i += 1;
        } else {
          next.push(word.parts[i] as string);
        }
      }
      word.parts = next;
    }
    merges.push(best);
    mergedTokens.push(joined);
  }
  return { merges, mergedTokens };
}
