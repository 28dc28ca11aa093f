import { Tokenizer } from '@huggingface/tokenizers';
import { byteSymbols, trainBpe } from './demo-bpe-trainer.ts';
import { DEMO_ANSWER_WORDS, DEMO_CAPTIONS, DEMO_PROMPTS } from './demo-caption-corpus.ts';

/** OFA's special tokens and ids (bos 0, pad 1, eos 2, unk 3). */
export const SPECIAL_TOKENS = ['<s>', '<pad>', '</s>', '<unk>'] as const;
export const SPECIAL_IDS = { bos: 0, pad: 1, eos: 2, unk: 3 } as const;

const MAX_MERGES = 1500;
/** Pairs seen once are not worth a vocabulary slot. */
const MIN_PAIR_COUNT = 2;
/** Prompts and answers occur in every request, so they get more weight than any one caption. */
const PROMPT_WEIGHT = 50;

export interface DemoTokenizer {
  readonly tokenizerJson: Record<string, unknown>;
  readonly tokenizerConfig: Record<string, unknown>;
  readonly vocabSize: number;
  readonly mergeCount: number;
  readonly answerIds: { YES: number; NO: number; MAYBE: number };
}

function trainingTexts(): Array<{ text: string; weight: number }> {
  const [prompt, promptWithPremise] = DEMO_PROMPTS as [string, string];
  const texts: Array<{ text: string; weight: number }> = [];
  // Captions as the model sees them: inside the prompts (this also teaches ` "` and ` "?`).
  DEMO_CAPTIONS.forEach((caption, i) => {
    texts.push({ text: prompt.replace('{text}', caption), weight: 1 });
    const premise = DEMO_CAPTIONS[(i * 7 + 3) % DEMO_CAPTIONS.length] as string;
    texts.push({ text: promptWithPremise.replace('{premise}', premise).replace('{text}', caption), weight: 1 });
  });
  for (const template of DEMO_PROMPTS) texts.push({ text: template.replace(/\{\w+\}/gu, ''), weight: PROMPT_WEIGHT });
  for (const word of Object.values(DEMO_ANSWER_WORDS)) texts.push({ text: word, weight: PROMPT_WEIGHT });
  return texts;
}

/** Trains the demo vocabulary and lays it out like OFA's tokenizer.json (RoBERTa/BART style). */
export function buildDemoTokenizer(modelMaxLength: number): DemoTokenizer {
  const { merges, mergedTokens } = trainBpe(trainingTexts(), MAX_MERGES, MIN_PAIR_COUNT);

  const vocab: Record<string, number> = {};
  const add = (token: string): void => {
    // Two merges can spell the same string ("a bc", "ab c"); it keeps its first id.
    if (!Object.hasOwn(vocab, token)) vocab[token] = Object.keys(vocab).length;
  };
  SPECIAL_TOKENS.forEach(add);
  byteSymbols().forEach(add);
  mergedTokens.forEach(add);
  const vocabSize = Object.keys(vocab).length;

  const addedToken = (content: string, id: number): Record<string, unknown> => ({
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: true,
    special: true,
  });
  const tokenizerJson: Record<string, unknown> = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIAL_TOKENS.map((token, id) => addedToken(token, id)),
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: {
      type: 'RobertaProcessing',
      sep: ['</s>', SPECIAL_IDS.eos],
      cls: ['<s>', SPECIAL_IDS.bos],
      trim_offsets: true,
      add_prefix_space: false,
    },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      vocab,
      merges,
    },
  };
  const tokenizerConfig: Record<string, unknown> = {
    tokenizer_class: 'BartTokenizer',
    add_prefix_space: false,
    bos_token: '<s>',
    eos_token: '</s>',
    sep_token: '</s>',
    cls_token: '<s>',
    unk_token: '<unk>',
    pad_token: '<pad>',
    model_max_length: modelMaxLength,
    errors: 'replace',
    clean_up_tokenization_spaces: false,
  };

  const answerIds = { YES: 0, NO: 0, MAYBE: 0 };
  const tokenizer = new Tokenizer(tokenizerJson, tokenizerConfig);
  for (const [label, word] of Object.entries(DEMO_ANSWER_WORDS) as Array<[keyof typeof answerIds, string]>) {
    const ids = tokenizer.encode(word, { add_special_tokens: false }).ids;
    if (ids.length !== 1 || ids[0] !== vocab[`Ġ${word.trim()}`]) {
      throw new Error(`demo tokenizer: "${word}" must be the single token Ġ${word.trim()}, got [${ids.join(', ')}]`);
    }
    answerIds[label] = ids[0] as number;
  }
  return { tokenizerJson, tokenizerConfig, vocabSize, mergeCount: merges.length, answerIds };
}
