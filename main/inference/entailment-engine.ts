import path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { OperatorProfile } from '../../preload/trace-spans.ts';
import { DEFAULT_INPUT_LIMITS, type InputLimits } from '../config.ts';
import { CheckError } from '../errors.ts';
import { decodeAnswer } from './answer-decode.ts';
import { buildPrompt } from './caption-normalize.ts';
import { normalizeCaption } from '../../preload/caption-normalize.ts';
import { isWordless } from '../../preload/caption-warnings.ts';
import type { CheckPair, Label } from '../../preload/wire-types.ts';
import type { EntailmentResult, ModelInfo } from './entailment-types.ts';
import { decodeResizeNormalize } from './image-preprocess.ts';
import { checkTextSize } from './input-size.ts';
import { buildModelFeeds } from './model-feeds.ts';
import { modelError, readJsonFile, readManifest, verifyManifestFile, type ModelManifest } from './model-manifest.ts';
import { LOGITS_OUTPUT, openSession, type BatchRunner, type ProviderChoice } from './onnx-session.ts';
import { PromptTokenizer } from './prompt-tokenizer.ts';

export interface EngineOptions {
  readonly provider?: ProviderChoice;
  readonly limits?: Partial<InputLimits>;
  readonly intraOpThreads?: number;
  /** Fraction of batches run with onnxruntime's profiler (onnx-session.ts; default 0: none). */
  readonly profileSampleRate?: number;
  /**
   * Stands in for the onnxruntime session (the bench's simulated accelerator): the graph is then
   * neither verified nor opened; preprocessing and answer decoding stay the real ones.
   */
  readonly runner?: (answers: Readonly<Record<Label, number>>) => BatchRunner;
  /**
   * The directory's preparer, loaded already (PairPreparer.load): the inference worker starts its
   * preprocessing threads from it while the session opens.
   */
  readonly preparer?: PairPreparer;
}

/** What preprocessing learnt of a pair's input, for the live stats' input slices. */
export interface PairInputFacts {
  /** BPE tokens of the caption alone (after OFA's normalisation and word cut; no template, bos or eos). */
  readonly captionTokens: number;
  /** The image as decoded (first frame, after EXIF orientation), before the resize. */
  readonly imageWidth: number;
  readonly imageHeight: number;
}

/** A pair's preprocessing apart from its pixels: the encoder ids, how long each half took, and its input facts. */
export interface PreparedRow {
  readonly encoderIds: readonly number[];
  readonly decodeImageMs: number;
  readonly tokenizeMs: number;
  readonly input: PairInputFacts;
}

/** One pair after preprocessing, ready to join a batch. */
export interface PreparedPair extends PreparedRow {
  readonly pixels: Float32Array;
}

/**
 * A batch whose pixels are laid out already in one tensor (row i at i * 3 * size * size, as
 * many rows as `rows`; a longer buffer is fine): nothing is copied on the way into the session.
 */
export interface AssembledBatch {
  readonly pixels: Float32Array;
  readonly rows: readonly PreparedRow[];
}

/**
 * What preprocessing needs and nothing of the session: the validated manifest, the tokenizer
 * files and the limits. Plain data, so preprocessing threads are given it (structured clone)
 * rather than reading the model directory again.
 */
export interface PreparerSource {
  readonly directory: string;
  readonly manifest: ModelManifest;
  readonly tokenizerJson: Record<string, unknown>;
  readonly tokenizerConfig: Record<string, unknown>;
  readonly limits: InputLimits;
}

const now = (): number => performance.now();

/**
 * OFA's preprocessing of one pair (caption and premise to encoder ids, image to normalised CHW
 * pixels) for one model. Stateless per call; the engine has one, and so does every
 * preprocessing thread of the inference worker (built from the engine's `preparer.source`).
 */
export class PairPreparer {
  private constructor(
    readonly source: PreparerSource,
    private readonly tokenizer: PromptTokenizer,
  ) {}

  /**
   * Reads and checks what preprocessing needs from a model directory: model.json, the tokenizer
   * files (checksums verified) and the answer tokens. Every problem is MODEL_INVALID naming the file.
   */
  static async load(directory: string, limits: Partial<InputLimits> = {}): Promise<PairPreparer> {
    const dir = path.resolve(directory);
    const manifest = await readManifest(dir);
    const tokenizerJson = await readJsonFile(dir, manifest.files.tokenizer);
    const tokenizerConfig = manifest.files.tokenizer_config ? await readJsonFile(dir, manifest.files.tokenizer_config) : {};
    const preparer = PairPreparer.fromSource({
      directory: dir,
      manifest,
      tokenizerJson,
      tokenizerConfig,
      limits: { ...DEFAULT_INPUT_LIMITS, ...limits },
    });
    checkAnswerTokens(dir, manifest, preparer.tokenizer);
    return preparer;
  }

  /** Builds the tokenizer from the source (MODEL_INVALID naming tokenizer.json if it is unusable). */
  static fromSource(source: PreparerSource): PairPreparer {
    const { directory, manifest, tokenizerJson, tokenizerConfig } = source;
    return new PairPreparer(source, loadTokenizer(directory, manifest, tokenizerJson, tokenizerConfig));
  }

  /** Floats of one pair's pixels: 3 * size * size. */
  get pixelsPerPair(): number {
    const { size } = this.source.manifest.image;
    return 3 * size * size;
  }

  /** Caption (and premise) → encoder ids; throws EMPTY_TEXT / TEXT_TOO_LONG. */
  encodeText(text: string, premise?: string): number[] {
    return this.encodeWithCount(text, premise).ids;
  }

  /** encodeText, and how many BPE tokens the caption alone is (as it follows the template's space). */
  private encodeWithCount(text: string, premise?: string): { ids: number[]; captionTokens: number } {
    const { manifest } = this.source;
    const { max_words: maxWords, max_length: maxLength } = manifest.text;
    const caption = this.normalizeField('text', text, maxWords);
    if (caption === '') throw new CheckError('EMPTY_TEXT', 'the caption is empty; give a sentence to check against the image');
    const premiseText = premise === undefined ? '' : this.normalizeField('premise', premise, maxWords);
    // A blank premise means none; one with only punctuation would silently mean none too.
    if (premiseText === '' && premise !== undefined && premise.trim() !== '') {
      throw new CheckError('EMPTY_TEXT', 'the premise has no words (only punctuation or spaces); give a sentence, or leave it out');
    }
    const prompt = buildPrompt(
      { prompt: manifest.text.prompt, promptWithPremise: manifest.text.prompt_with_premise },
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
    // A second, short BPE of the caption alone: the prompt's own ids cannot be split exactly where
    // the caption starts and ends (byte-level BPE merges across the template's space).
    return { ids, captionTokens: this.tokenizer.bpe(` ${caption}`).length };
  }

  private normalizeField(field: 'text' | 'premise', value: string, maxWords: number): string {
    checkTextSize(field, value, this.source.limits.maxTextBytes);
    const normalized = normalizeCaption(value, maxWords);
    // Nothing but punctuation, spaces or control characters says nothing about the image: the
    // rule the checker applies before sending (preload/caption-warnings.ts).
    return isWordless(normalized) ? '' : normalized;
  }

  /**
   * Validates and preprocesses one pair (text first: it is cheap and fails fast). The pixels are
   * written into `out` at `offset` when given (a batch tensor's row), else into a new array.
   */
  async prepare(input: CheckPair, out?: Float32Array, offset = 0): Promise<PreparedPair> {
    const t0 = now();
    const { ids: encoderIds, captionTokens } = this.encodeWithCount(input.text, input.premise);
    const t1 = now();
    const { manifest, limits } = this.source;
    const { size, mean, std } = manifest.image;
    // preprocessImage's step, here so that the decoded size is known (an input slice).
    const pixels = out ?? new Float32Array(this.pixelsPerPair);
    const imageLimits = { maxBytes: limits.maxImageBytes, maxPixels: limits.maxImagePixels };
    const image = await decodeResizeNormalize(input.image, { size, mean, std }, imageLimits, pixels, out ? offset : 0);
    const facts = { captionTokens, imageWidth: image.sourceWidth, imageHeight: image.sourceHeight };
    return { pixels, encoderIds, tokenizeMs: t1 - t0, decodeImageMs: now() - t1, input: facts };
  }
}

/**
 * OFA visual entailment over one model directory: preprocessing (image and text), batched
 * onnxruntime runs and answer decoding. Stateless per call, so a service can prepare pairs
 * concurrently (here or in other threads, with `preparer.source`) and batch them as it likes.
 */
export class EntailmentEngine {
  private constructor(
    private readonly manifest: ModelManifest,
    private readonly runner: BatchRunner,
    readonly preparer: PairPreparer,
    readonly info: ModelInfo,
  ) {}

  static async load(directory: string, options: EngineOptions = {}): Promise<EntailmentEngine> {
    const dir = path.resolve(directory);
    const preparer = options.preparer ?? (await PairPreparer.load(dir, options.limits));
    const { manifest } = preparer.source;
    let runner: BatchRunner;
    let opened: { provider: ModelInfo['provider']; fallbackReason?: string };
    if (options.runner) {
      runner = options.runner(manifest.answers);
      opened = { provider: 'cpu' };
    } else {
      if (manifest.files.model_data) await verifyManifestFile(dir, manifest.files.model_data);
      const modelFile = await verifyManifestFile(dir, manifest.files.model);
      const session = await openSession(modelFile, manifest.image.size, {
        provider: options.provider ?? 'auto',
        intraOpThreads: options.intraOpThreads,
        profileSampleRate: options.profileSampleRate,
      });
      runner = session.runner;
      opened = session;
    }
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
    return new EntailmentEngine(manifest, runner, preparer, info);
  }

  get limits(): InputLimits {
    return this.preparer.source.limits;
  }

  /** Caption (and premise) → encoder ids; throws EMPTY_TEXT / TEXT_TOO_LONG. */
  encodeText(text: string, premise?: string): number[] {
    return this.preparer.encodeText(text, premise);
  }

  /** Validates and preprocesses one pair (text first: it is cheap and fails fast). */
  prepare(input: CheckPair): Promise<PreparedPair> {
    return this.preparer.prepare(input);
  }

  /** Runs prepared pairs in one session run, padded and masked; results in input order. */
  async run(batch: readonly PreparedPair[]): Promise<EntailmentResult[]> {
    if (batch.length === 0) return [];
    const plane = this.preparer.pixelsPerPair;
    const pixels = new Float32Array(batch.length * plane);
    batch.forEach((pair, row) => pixels.set(pair.pixels, row * plane));
    return this.runAssembled({ pixels, rows: batch });
  }

  /**
   * Runs a batch whose pixels are in one tensor already, in one session run, padded and masked;
   * results in row order. The input tensors are released whether the run succeeds or throws.
   */
  async runAssembled(batch: AssembledBatch): Promise<EntailmentResult[]> {
    const n = batch.rows.length;
    if (n === 0) return [];
    const feeds = this.buildFeeds(batch);
    let output: Record<string, ort.OnnxValue> | undefined;
    try {
      const t0 = now();
      output = await this.runner.run(feeds);
      const inferenceMs = now() - t0;
      const logits = output[LOGITS_OUTPUT];
      if (!logits || !(logits.data instanceof Float32Array) || logits.dims.length !== 2 || logits.dims[0] !== n) {
        throw new CheckError('INTERNAL', `model output "${LOGITS_OUTPUT}" has an unexpected shape`);
      }
      const vocab = Number(logits.dims[1]);
      return batch.rows.map((pair, row) => {
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
    } finally {
      for (const tensor of Object.values(feeds)) tensor.dispose();
      for (const value of Object.values(output ?? {})) value.dispose();
    }
  }

  /**
   * After a run: its operator events where it was sampled for profiling (BatchRunner.takeProfile);
   * undefined at once where nothing is profiled, so that costs a batch nothing.
   */
  takeProfile(): Promise<OperatorProfile | undefined> | undefined {
    return this.runner.takeProfile?.();
  }

  /** One pair end to end. */
  async check(input: CheckPair): Promise<EntailmentResult> {
    const [result] = await this.run([await this.prepare(input)]);
    return result as EntailmentResult;
  }

  async close(): Promise<void> {
    await this.runner.release();
  }

  private buildFeeds(batch: AssembledBatch): Record<string, ort.Tensor> {
    return buildModelFeeds(batch.pixels, batch.rows, this.manifest.image.size, this.manifest.text.pad_id);
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
