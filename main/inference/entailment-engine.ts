import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { DEFAULT_INPUT_LIMITS, type InputLimits } from '../config.ts';
import { CheckError } from '../errors.ts';
import { decodeAnswer } from './answer-decode.ts';
import { buildPrompt, normalizeCaption } from './caption-normalize.ts';
import type { CheckInput, EntailmentResult, Label, ModelInfo } from './entailment-types.ts';
import { preprocessImage } from './image-preprocess.ts';
import { modelError, readJsonFile, readManifest, verifyManifestFile, type ModelManifest } from './model-manifest.ts';
import { LOGITS_OUTPUT, openSession, type OpenedSession, type ProviderChoice } from './onnx-session.ts';
import { PromptTokenizer } from './prompt-tokenizer.ts';

export interface EngineOptions {
  readonly provider?: ProviderChoice;
  readonly limits?: Partial<InputLimits>;
  readonly intraOpThreads?: number;
}

/** One pair after preprocessing, ready to join a batch. */
export interface PreparedPair {
  readonly pixels: Float32Array;
  readonly encoderIds: readonly number[];
  readonly decodeImageMs: number;
  readonly tokenizeMs: number;
}

const now = (): number => performance.now();
const NOTHING_TO_CHECK = /^[\p{P}\p{Z}\p{C}\s]*$/u;
const IMAGE_CODES = new Set(['INVALID_IMAGE', 'IMAGE_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE']);

/**
 * OFA visual entailment over one model directory: preprocessing (image and text), batched
 * onnxruntime runs and answer decoding. Stateless per call, so a service can prepare pairs
 * concurrently and batch them as it likes.
 */
export class EntailmentEngine {
  private constructor(
    private readonly manifest: ModelManifest,
    private readonly opened: OpenedSession,
    private readonly tokenizer: PromptTokenizer,
    readonly limits: InputLimits,
    readonly info: ModelInfo,
  ) {}

  static async load(directory: string, options: EngineOptions = {}): Promise<EntailmentEngine> {
    const dir = path.resolve(directory);
    const manifest = await readManifest(dir);
    const tokenizerJson = await readJsonFile(dir, manifest.files.tokenizer);
    const tokenizerConfig = manifest.files.tokenizer_config
      ? await readJsonFile(dir, manifest.files.tokenizer_config)
      : {};
    const tokenizer = loadTokenizer(dir, manifest, tokenizerJson, tokenizerConfig);
    checkAnswerTokens(dir, manifest, tokenizer);
    if (manifest.files.model_data) await verifyManifestFile(dir, manifest.files.model_data);
    const modelFile = await verifyManifestFile(dir, manifest.files.model);
    const opened = await openSession(modelFile, manifest.image.size, {
      provider: options.provider ?? 'auto',
      intraOpThreads: options.intraOpThreads,
    });
    const info: ModelInfo = {
      name: manifest.name,
      version: manifest.version,
      demo: manifest.demo,
      description: manifest.description,
      provider: opened.provider,
      providerFallbackReason: opened.fallbackReason,
      directory: dir,
      imageSize: manifest.image.size,
      maxWords: manifest.text.max_words,
      answers: { ...manifest.answers },
    };
    const limits = { ...DEFAULT_INPUT_LIMITS, ...options.limits };
    return new EntailmentEngine(manifest, opened, tokenizer, limits, info);
  }

  /** Caption (and premise) → encoder ids; throws EMPTY_TEXT / TEXT_TOO_LONG. */
  encodeText(text: string, premise?: string): number[] {
    const { max_words: maxWords, max_length: maxLength } = this.manifest.text;
    const caption = this.normalizeField('text', text, maxWords);
    if (caption === '') throw new CheckError('EMPTY_TEXT', 'the caption is empty; give a sentence to check against the image');
    const premiseText = premise === undefined ? '' : this.normalizeField('premise', premise, maxWords);
    const prompt = buildPrompt(
      { prompt: this.manifest.text.prompt, promptWithPremise: this.manifest.text.prompt_with_premise },
      caption,
      premiseText === '' ? undefined : premiseText,
    );
    const ids = this.tokenizer.encodePrompt(prompt);
    if (ids.length > maxLength) {
      throw new CheckError(
        'TEXT_TOO_LONG',
        `the prompt is ${ids.length} tokens after OFA's ${maxWords}-word cut; this model takes at most ${maxLength}`,
      );
    }
    return ids;
  }

  private normalizeField(field: 'text' | 'premise', value: string, maxWords: number): string {
    const bytes = Buffer.byteLength(value, 'utf8');
    if (bytes > this.limits.maxTextBytes) {
      throw new CheckError('TEXT_TOO_LONG', `the ${field} is ${bytes} bytes; the limit is ${this.limits.maxTextBytes}`);
    }
    const normalized = normalizeCaption(value, maxWords);
    // Nothing but punctuation, spaces or control characters says nothing about the image
    // (OFA keeps "..." when spaces precede it); emoji and any letter or digit count as text.
    return NOTHING_TO_CHECK.test(normalized) ? '' : normalized;
  }

  /** Validates and preprocesses one pair (text first: it is cheap and fails fast). */
  async prepare(input: CheckInput): Promise<PreparedPair> {
    const t0 = now();
    const encoderIds = this.encodeText(input.text, input.premise);
    const t1 = now();
    const { size, mean, std } = this.manifest.image;
    const pixels = await preprocessImage(input.image, { size, mean, std }, {
      maxBytes: this.limits.maxImageBytes,
      maxPixels: this.limits.maxImagePixels,
    });
    return { pixels, encoderIds, tokenizeMs: t1 - t0, decodeImageMs: now() - t1 };
  }

  /** Runs prepared pairs in one session run, padded and masked; results in input order. */
  async run(batch: readonly PreparedPair[]): Promise<EntailmentResult[]> {
    if (batch.length === 0) return [];
    const feeds = this.buildFeeds(batch);
    const t0 = now();
    const output = await this.opened.session.run(feeds);
    const inferenceMs = now() - t0;
    const logits = output[LOGITS_OUTPUT];
    if (!logits || !(logits.data instanceof Float32Array) || logits.dims.length !== 2 || logits.dims[0] !== batch.length) {
      throw new CheckError('INTERNAL', `model output "${LOGITS_OUTPUT}" has an unexpected shape`);
    }
    const vocab = Number(logits.dims[1]);
    const results = batch.map((pair, row) => {
      const t = now();
      const answer = decodeAnswer(logits.data as Float32Array, row * vocab, this.manifest.answers);
      return {
        ...answer,
        stages: {
          decode_image: pair.decodeImageMs,
          tokenize: pair.tokenizeMs,
          inference: inferenceMs,
          postprocess: now() - t,
        },
      };
    });
    for (const tensor of Object.values(feeds)) tensor.dispose();
    logits.dispose();
    return results;
  }

  /** One pair end to end. */
  async check(input: CheckInput): Promise<EntailmentResult> {
    const [result] = await this.run([await this.prepare(input)]);
    return result as EntailmentResult;
  }

  /** Convenience for the CLI and tests: reads the image from disk first. */
  async checkFile(imagePath: string, text: string, premise?: string): Promise<EntailmentResult> {
    let image: Uint8Array;
    try {
      image = await readFile(imagePath);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : 'cannot be read';
      throw new CheckError('INVALID_IMAGE', `${imagePath}: ${why}`);
    }
    try {
      return await this.check({ image, text, premise });
    } catch (err) {
      // Name the file: a reviewer checking a folder needs to know which image was refused.
      if (err instanceof CheckError && IMAGE_CODES.has(err.code)) throw new CheckError(err.code, `${imagePath}: ${err.message}`);
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.opened.session.release();
  }

  private buildFeeds(batch: readonly PreparedPair[]): Record<string, ort.Tensor> {
    const { size } = this.manifest.image;
    const { pad_id: pad } = this.manifest.text;
    const n = batch.length;
    const plane = 3 * size * size;
    const pixels = new Float32Array(n * plane);
    batch.forEach((pair, row) => pixels.set(pair.pixels, row * plane));

    const encLen = Math.max(...batch.map((p) => p.encoderIds.length));
    const decLen = encLen - 1;
    const inputIds = new BigInt64Array(n * encLen).fill(BigInt(pad));
    const attention = new BigInt64Array(n * encLen);
    const decoderIds = new BigInt64Array(n * decLen).fill(BigInt(pad));
    const decoderAttention = new BigInt64Array(n * decLen);
    batch.forEach((pair, row) => {
      const ids = pair.encoderIds;
      ids.forEach((id, i) => {
        inputIds[row * encLen + i] = BigInt(id);
        attention[row * encLen + i] = 1n;
        // The decoder sees `[bos] + BPE(prompt)`: the encoder ids without the final eos.
        if (i < ids.length - 1) {
          decoderIds[row * decLen + i] = BigInt(id);
          decoderAttention[row * decLen + i] = 1n;
        }
      });
    });
    return {
      pixel_values: new ort.Tensor('float32', pixels, [n, 3, size, size]),
      input_ids: new ort.Tensor('int64', inputIds, [n, encLen]),
      attention_mask: new ort.Tensor('int64', attention, [n, encLen]),
      decoder_input_ids: new ort.Tensor('int64', decoderIds, [n, decLen]),
      decoder_attention_mask: new ort.Tensor('int64', decoderAttention, [n, decLen]),
    };
  }
}

/**
 * Builds the tokenizer and tries it on a word: a tokenizer.json that parses as JSON but is not one
 * the library can use (no "model", an unknown type, broken merges) fails here with MODEL_INVALID
 * naming the file, not later as an internal error on the first check.
 */
function loadTokenizer(
  dir: string,
  manifest: ModelManifest,
  tokenizerJson: Record<string, unknown>,
  tokenizerConfig: Record<string, unknown>,
): PromptTokenizer {
  try {
    const tokenizer = new PromptTokenizer(tokenizerJson, tokenizerConfig, { bos: manifest.text.bos_id, eos: manifest.text.eos_id });
    tokenizer.bpe(' yes');
    return tokenizer;
  } catch (err) {
    const problem = err instanceof Error ? err.message : String(err);
    throw modelError(dir, manifest.files.tokenizer.path, `not a usable Hugging Face tokenizer (${problem})`);
  }
}

/** The manifest's answer ids must be what the tokenizer makes of " yes", " no" and " maybe". */
function checkAnswerTokens(dir: string, manifest: ModelManifest, tokenizer: PromptTokenizer): void {
  const words: Record<Label, string> = { YES: ' yes', NO: ' no', MAYBE: ' maybe' };
  for (const [label, word] of Object.entries(words) as [Label, string][]) {
    const id = tokenizer.singleTokenId(word);
    if (id !== manifest.answers[label]) {
      throw new CheckError(
        'MODEL_INVALID',
        `model directory ${dir}: ${manifest.files.tokenizer.path}: "${word}" is ${id === undefined ? 'not a single token' : `id ${id}`}, model.json answers.${label} says ${manifest.answers[label]}`,
      );
    }
  }
}
