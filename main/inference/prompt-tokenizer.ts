import { Tokenizer } from '@huggingface/tokenizers';

/**
 * Byte-level BPE over a model's tokenizer.json, producing OFA's encoder ids `[bos] + BPE + [eos]`.
 *
 * The added (special) tokens are removed before the tokenizer is built: with them, a caption that
 * contains the literal text `</s>` would be split into a real end-of-sequence id, whereas OFA's
 * fairseq GPT-2 BPE treats it as the characters `<`, `/`, `s`, `>`. bos/eos come from the manifest.
 */
export interface SpecialIds {
  readonly bos: number;
  readonly eos: number;
}

export class PromptTokenizer {
  private readonly tokenizer: Tokenizer;

  constructor(
    tokenizerJson: Record<string, unknown>,
    tokenizerConfig: Record<string, unknown>,
    private readonly special: SpecialIds,
  ) {
    const plainText = { ...tokenizerJson, added_tokens: [], post_processor: null };
    this.tokenizer = new Tokenizer(plainText, tokenizerConfig);
  }

  /** BPE ids of `text` with no special tokens. */
  bpe(text: string): number[] {
    return this.tokenizer.encode(text, { add_special_tokens: false }).ids;
  }

  /** Encoder ids for a prompt: `[bos] + BPE(prompt) + [eos]`. */
  encodePrompt(prompt: string): number[] {
    return [this.special.bos, ...this.bpe(prompt), this.special.eos];
  }

  /** The id of a word that must be a single token (the answers " yes", " no", " maybe"). */
  singleTokenId(word: string): number | undefined {
    const ids = this.bpe(word);
    return ids.length === 1 ? ids[0] : undefined;
  }
}
