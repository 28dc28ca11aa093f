import { parseArgs } from 'node:util';
import { captionWarnings } from '../../preload/caption-warnings.ts';
import { LABELS, STAGE_NAMES, type CheckWarning } from '../../preload/wire-types.ts';
import { defaultModelDir } from '../config.ts';
import { toCheckError } from '../errors.ts';
import { EntailmentEngine } from '../inference/entailment-engine.ts';
import type { EntailmentResult, ModelInfo } from '../inference/entailment-types.ts';
import { DEFAULT_BATCHING } from '../service/batching-options.ts';
import { EXIT, UsageError } from './exit-codes.ts';
import type { CliIo } from './cli-io.ts';
import { reportCheckError } from './check-error-output.ts';
import { CHECK_OPTIONS } from './check-options.ts';
import { namingImageFile, readImageFile } from './image-file.ts';
import { modelNotices } from './model-notices.ts';
import { parseProvider } from './provider-option.ts';
import { WORKER_FLAGS } from './worker-options.ts';
import { WORKER_NICENESS } from '../service/worker-priority.ts';

export const CHECK_USAGE = `usage: ofa-ve check IMAGE TEXT [--premise P] [--model DIR] [--provider auto|cuda|cpu] [--json]
       ofa-ve check --batch LIST.csv|LIST.jsonl [--out FILE|-] [--resume] [--caption C] [--premise P]
                    [--concurrency N] [--model DIR] [--provider auto|cuda|cpu] [--json]
                    ${WORKER_FLAGS}

Checks whether TEXT describes IMAGE (visual entailment): YES, NO or MAYBE with a score. Warnings
(CAPTION_TRUNCATED: the model reads only the first max_words words; NOT_ENGLISH) go to stderr, and
into the JSON as "warnings".
exit status: 0 result printed, 2 bad input, 3 model problem

--batch checks every pair of a list in the format the checker imports: CSV (a header naming
image/file/path and caption/text, optional premise; or the columns image, caption, premise) or JSONL
({"image": ..., "caption": ..., "premise": ...}). Image paths are relative to the list's folder, or
absolute. --caption and --premise fill rows that have none of their own (with --caption, a CSV
header may name the image column alone). An image that is not a regular file (a device, a FIFO) is
INVALID_IMAGE, as a missing one is.
  --out FILE      one JSON line per row, appended as it finishes (not in list order); default
                  LIST.results.jsonl next to the list; "-" writes to stdout (then no --resume):
                  {line, image, caption, premise?, label, score, scores, warnings, latency_ms, model}
                  or {line, image, caption, premise?, error: {code, message}} for a bad-input row
  --resume        continue a stopped or crashed run: rows already in FILE (same line, image, caption,
                  premise) are skipped, a line cut off by a kill is dropped; without --resume an
                  existing non-empty FILE is refused, never overwritten
  --concurrency N checks in flight (default twice --max-batch-size: ${2 * DEFAULT_BATCHING.maxBatchSize}), so the service forms batches
  --max-batch-size, --intra-op-threads, --worker-nice, --preprocess-workers: the inference worker's
                  settings, as ofa-ve serve takes them (see ofa-ve serve --help); the worker runs at
                  nice ${WORKER_NICENESS} unless told otherwise, so the machine stays usable during a long run
  --json          a summary object on stdout at the end ({error: {code, message}} if the list or FILE
                  cannot be used)
Progress (done/total, checks/s, ETA, bad input, failed) goes to stderr: redrawn in place on a terminal, a
plain line every 5 s otherwise; bad-input rows and warnings are reported there with their line.
Ctrl-C stops taking rows, finishes and writes those in flight, prints how to resume and exits 130.
exit status: 0 every row answered; 2 some rows are bad input (or list lines unusable); 1 some rows
failed on our side (OVERLOADED, TIMEOUT, INTERNAL: not recorded, --resume retries them); 3 model
problem; 4 the results could not be written (stdout closed by its reader, a full disk: the run stops
at once); 130 interrupted (143 on SIGTERM)`;

function formatHuman(result: EntailmentResult, model: ModelInfo): string {
  const scores = LABELS.map((l) => `${l.toLowerCase()} ${result.scores[l].toFixed(3)}`).join(' · ');
  const stages = STAGE_NAMES.filter((s) => result.stages[s] !== undefined)
    .map((s) => `${s} ${(result.stages[s] as number).toFixed(1)} ms`)
    .join(' · ');
  return [
    `${result.label} ${result.score.toFixed(3)}  (${scores})`,
    `stages: ${stages}`,
    `model: ${model.name} ${model.version} on ${model.provider}${model.demo ? ' (demo)' : ''}`,
  ].join('\n');
}

const isBatch = (argv: readonly string[]) => argv.some((a) => a === '--batch' || a.startsWith('--batch='));

export async function runCheck(argv: string[], io: CliIo): Promise<number> {
  if (isBatch(argv)) {
    // Loaded on use: the batch runs the service (worker process, batcher); one check needs neither.
    const { runBatchCheck } = await import('./batch/batch-command.ts');
    return runBatchCheck(argv, io);
  }
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: CHECK_OPTIONS,
  });
  if (positionals.length !== 2) throw new UsageError('check takes exactly two arguments: IMAGE and TEXT');
  const [imagePath, text] = positionals as [string, string];
  const provider = parseProvider(values.provider);

  let engine: EntailmentEngine | undefined;
  try {
    engine = await EntailmentEngine.load(values.model ?? defaultModelDir(), { provider });
    for (const notice of modelNotices(engine.info, provider)) io.stderr(notice);
    // The one image-file reader (image-file.ts): devices and FIFOs refused, the read bounded.
    let result: EntailmentResult;
    try {
      const image = await readImageFile(imagePath, engine.limits.maxImageBytes);
      result = await engine.check({ image, text, premise: values.premise });
    } catch (err) {
      throw namingImageFile(imagePath, err);
    }
    const model = engine.info;
    // The rule the service applies to every check (preload/caption-warnings.ts): what the model did not see.
    const warnings: CheckWarning[] = captionWarnings(text, model.maxWords, values.premise);
    for (const w of warnings) io.stderr(`warning ${w.code}: ${w.message}`);
    if (values.json) {
      io.stdout(
        JSON.stringify({
          label: result.label,
          score: result.score,
          scores: result.scores,
          stages: result.stages,
          warnings,
          model: { name: model.name, version: model.version, provider: model.provider, demo: model.demo },
          demo: model.demo,
        }),
      );
    } else {
      io.stdout(formatHuman(result, model));
    }
    return EXIT.OK;
  } catch (err) {
    const error = toCheckError(err);
    if (error.code === 'INTERNAL') io.debug(err);
    return reportCheckError(io, error, values.json);
  } finally {
    await engine?.close();
  }
}
