import { statSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { defaultModelDir } from '../../config.ts';
import { CheckError } from '../../errors.ts';
import { silentLogger } from '../../logging/json-logger.ts';
import { DEFAULT_BATCHING } from '../../service/batching-options.ts';
import { ServiceRuntime } from '../../service/service-runtime.ts';
import { reportCheckError } from '../check-error-output.ts';
import { CHECK_OPTIONS } from '../check-options.ts';
import { CheckedOutput, processIo, stdoutSender, stdoutSharesStderrTerminal, type CliIo, type Sender } from '../cli-io.ts';
import { EXIT, UsageError } from '../exit-codes.ts';
import { modelNotices } from '../model-notices.ts';
import { outputFileProblem } from '../output-file.ts';
import { parseProvider } from '../provider-option.ts';
import { WORKER_OPTIONS, workerSettings } from '../worker-options.ts';
import { groupRepeats, ListReadError, readBatchList, type BatchList, type BatchRow, type RowGroup } from './batch-list.ts';
import { BatchPool } from './batch-pool.ts';
import { BatchProgress, type ProgressOutput } from './batch-progress.ts';
import {
  describeRewrite,
  keepRemovedResults,
  notResultsFile,
  planResume,
  readRecordedResults,
  removeStaleRewriteTemps,
  ResultsFileWriter,
  rewriteResultsFile,
  rowKey,
  type BatchRecord,
  type RecordedResults,
} from './batch-results-file.ts';
import { checkRow, type RowOutcome } from './batch-row-check.ts';

/** `--concurrency`: by default two batches' worth, so that the service can fill one while the other runs. */
function parseConcurrency(value: string | undefined, maxBatchSize: number): number {
  if (value === undefined) return Math.min(1024, 2 * maxBatchSize);
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 1024) throw new UsageError('--concurrency must be a whole number from 1 to 1024');
  return n;
}

/** The same path, or two names of one file (a symbolic or hard link): results would be written into the list. */
function sameFile(a: string, b: string): boolean {
  if (path.resolve(a) === path.resolve(b)) return true;
  try {
    const [x, y] = [statSync(a), statSync(b)];
    return x.dev === y.dev && x.ino === y.ino;
  } catch {
    return false; // one of them does not exist (yet): not the same file
  }
}

/** LIST.results.jsonl next to the list. */
export function defaultOutPath(listPath: string): string {
  const parsed = path.parse(listPath);
  return path.join(parsed.dir, `${parsed.name}.results.jsonl`);
}

/** POSIX shell quoting, for the resume command we print. */
function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** The command line that continues this run: the same options, with --out spelled out and --resume. */
function resumeCommand(argv: readonly string[], out: string): string {
  const args = argv.filter((a) => a !== '--resume');
  const hasOut = args.some((a) => a === '--out' || a.startsWith('--out='));
  return ['ofa-ve', 'check', ...args, ...(hasOut ? [] : ['--out', out]), '--resume'].map(shellQuote).join(' ');
}

const where = (row: BatchRow) => `line ${row.line} (${row.image})`;

/** Records into the results file through a Sender: a failed write (ENOSPC, EIO) is reported, not thrown. */
function fileSender(writer: ResultsFileWriter): Sender<BatchRecord> {
  return (record, done) => {
    try {
      writer.write(record);
    } catch (err) {
      done(err as Error);
      return;
    }
    done();
  };
}

/** The failed write in words: a closed stdout (its reader gone, `| head -1`), or why FILE failed. */
function outputFailureText(err: Error, out: string): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (out === '-') return code === 'EPIPE' ? 'stdout was closed' : `cannot write stdout (${code ?? err.message})`;
  return `cannot write ${out} (${code ?? err.message})`;
}

/** Where the progress bar goes: redrawn in place only on a real terminal. */
function progressOutput(io: CliIo): ProgressOutput {
  if (io === processIo && process.stderr.isTTY) {
    return { kind: 'terminal', write: (raw) => process.stderr.write(raw), columns: () => process.stderr.columns };
  }
  return { kind: 'lines', line: (text) => io.stderr(text) };
}

interface Tally {
  answered: number;
  refused: number;
  failed: number;
  /** Of those, rows given the outcome of an identical earlier row's check (not checked themselves). */
  repeated: number;
  /** Checks the model answered (each answering a row and its repeats). */
  checked: number;
  /** Checks finished, whatever their outcome (each gave a row and its repeats their result). */
  checksDone: number;
}

/** Checks the service answered, as its own metrics count them (ofa_ve_request_total with status 200). */
async function answersCounted(runtime: ServiceRuntime): Promise<number> {
  const { values } = await runtime.metrics.requests.get();
  return values.filter((v) => String(v.labels.status_code) === '200').reduce((sum, v) => sum + v.value, 0);
}

/** The end-of-run summary printed with --json. */
export interface BatchSummary {
  list: string;
  out: string;
  /** Usable rows in the list. */
  rows: number;
  /** List lines that name no usable pair. */
  list_problems: number;
  /** Rows settled by an earlier run (skipped). */
  recorded_before: number;
  /** --resume after the list was edited: earlier results moved to their rows' new lines, and moved aside (FILE.removed.jsonl) for rows no longer in it. */
  renumbered: number;
  removed: number;
  /** This run: rows answered, refused as bad input, failed on our side (not recorded). */
  answered: number;
  bad_input: number;
  failed: number;
  /**
   * Rows of this run that repeat an earlier row of it (same image file, caption and premise): given
   * that row's outcome (counted in answered, bad_input or failed too), not checked again.
   */
  repeats: number;
  /**
   * Checks the model answered in this run, as the service counts them: answered less the repeats
   * among them, unless the output failed (answers that could not be written count here, not there).
   */
  model_answers: number;
  /** Rows with no result recorded at the end (failed, in flight when abandoned, or not reached). */
  remaining: number;
  /** Stopped by a signal before the end of the list. */
  interrupted: boolean;
  /** Checks in flight when the signal came: they were finished and written (unless abandoned). */
  in_flight_at_stop: number;
  exit_code: number;
}

/** `ofa-ve check --batch LIST ...` (its options are in check-command.ts's usage). */
export async function runBatchCheck(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...CHECK_OPTIONS,
      batch: { type: 'string' },
      out: { type: 'string' },
      resume: { type: 'boolean', default: false },
      caption: { type: 'string' },
      concurrency: { type: 'string' },
      ...WORKER_OPTIONS,
    },
  });
  if (positionals.length > 0) throw new UsageError('check --batch takes no IMAGE and TEXT: the list names the pairs');
  const listPath = values.batch;
  if (!listPath) throw new UsageError('--batch needs the path of a CSV or JSONL list');
  const toStdout = values.out === '-';
  const out = toStdout ? '-' : (values.out ?? defaultOutPath(listPath));
  if (toStdout && values.resume) throw new UsageError('--resume needs a results file: --out FILE');
  if (toStdout && values.json) throw new UsageError('--json writes its summary to stdout: use it with --out FILE');
  if (!toStdout && sameFile(out, listPath)) throw new UsageError('--out would overwrite the list itself');
  const provider = parseProvider(values.provider);
  const worker = workerSettings(values);
  const concurrency = parseConcurrency(values.concurrency, worker.maxBatchSize);
  // A list or results file that cannot be used ends the run before it starts: with --json, stdout
  // still gets one JSON object ({error}, as `ofa-ve check --json` prints).
  const refuse = (message: string) => reportCheckError(io, new CheckError('BAD_REQUEST', message), values.json);

  let list: BatchList;
  try {
    list = await readBatchList(listPath, { caption: values.caption, premise: values.premise });
  } catch (err) {
    if (!(err instanceof ListReadError)) throw err;
    return refuse(`cannot read the list: ${err.message}`);
  }
  for (const problem of list.problems) io.stderr(`${listPath}: line ${problem.line}: ${problem.message} (skipped)`);
  if (list.rows.length === 0) return refuse(`${listPath} lists no image/caption pairs`);

  let recorded: RecordedResults | undefined;
  if (!toStdout) {
    // Before loading the model (and before reading it to resume): a results file that cannot be
    // written should not cost a model load.
    const problem = await outputFileProblem(out, { readBack: true });
    if (problem) return refuse(`cannot write ${out}: ${problem}`);
    // A run killed while rewriting the file for --resume left its temporary file (the file itself is whole).
    for (const temp of removeStaleRewriteTemps(out)) io.stderr(`note: removed ${temp}, left by a run killed while rewriting ${out}`);
    try {
      recorded = await readRecordedResults(out);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      return refuse(`cannot read ${out} to resume from it: ${code === 'EACCES' ? 'permission denied' : (code ?? String(err))}`);
    }
    // Notes, another list, a CSV: --resume would cut its last line and append results to it.
    const notOurs = recorded && notResultsFile(recorded);
    if (notOurs) return refuse(`${out} is not a results file (${notOurs}): it is left as it is; choose another --out`);
    if (recorded && recorded.keepBytes > 0 && !values.resume) {
      return refuse(`${out} already holds results: add --resume to continue that run, or choose another --out`);
    }
    if (recorded?.tornTail)
      io.stderr(`note: the last line of ${out} was cut off mid-write (a killed run): dropped, so its row is checked again`);
  }
  const plan = planResume(recorded, list.rows);
  const settled = plan.settled;
  const pending = list.rows.filter((row) => !settled.has(rowKey(row)));
  const refusedBefore = list.rows.filter((row) => settled.get(rowKey(row)) === 'refused').length;
  const recordedBefore = list.rows.length - pending.length;
  if (values.resume && recorded) {
    io.stderr(`resuming: ${recordedBefore} of ${list.rows.length} rows already have results in ${out}; ${pending.length} to check`);
    if (plan.settled.size === 0 && plan.removed > 0) {
      // Likely a mistake (another list, or --caption/--premise not as before): refused, nothing touched.
      return refuse(
        `none of the ${plan.removed} results in ${out} is for a row of ${listPath} as it is now (same image, caption and premise; --caption and --premise included): choose another --out, or remove ${out} to start over`,
      );
    }
    if (plan.rewrite !== undefined) {
      try {
        if (plan.removedText !== undefined) keepRemovedResults(out, plan.removedText);
        recorded = rewriteResultsFile(out, plan.rewrite);
      } catch (err) {
        return refuse(`cannot rewrite ${out} for the edited list: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
      }
      io.stderr(`note: ${describeRewrite(plan, out)}`);
    }
  }

  // Rows that repeat an earlier row of this run get its outcome: the model runs once per distinct row.
  const groups = groupRepeats(pending);
  const repeats = pending.length - groups.length;
  const tally: Tally = { answered: 0, refused: 0, failed: 0, repeated: 0, checked: 0, checksDone: 0 };
  let modelAnswers = 0;
  let interrupted: NodeJS.Signals | undefined;
  let inFlightAtStop = 0;
  let modelLost: CheckError | undefined;
  const summarise = (exitCode: number): number => {
    const remaining = list.rows.length - recordedBefore - tally.answered - tally.refused;
    if (values.json) {
      const summary: BatchSummary = {
        list: listPath,
        out,
        rows: list.rows.length,
        list_problems: list.problems.length,
        recorded_before: recordedBefore,
        renumbered: plan.renumbered,
        removed: plan.removed,
        answered: tally.answered,
        bad_input: tally.refused,
        failed: tally.failed,
        repeats: tally.repeated,
        model_answers: modelAnswers,
        remaining,
        interrupted: interrupted !== undefined,
        in_flight_at_stop: inFlightAtStop,
        exit_code: exitCode,
      };
      io.stdout(JSON.stringify(summary));
    }
    return exitCode;
  };
  const badInputExit = () => (refusedBefore + tally.refused + list.problems.length > 0 ? EXIT.BAD_INPUT : EXIT.OK);
  if (pending.length === 0) {
    io.stderr(`nothing to check: every row of ${listPath} has a result in ${out}`);
    return summarise(badInputExit());
  }

  const runtime = new ServiceRuntime({
    modelDir: values.model ?? defaultModelDir(),
    provider,
    // Every row is queued by us, never by an impatient client: a slow CPU model gets minutes.
    batching: {
      maxBatchSize: worker.maxBatchSize,
      maxQueueSize: Math.max(DEFAULT_BATCHING.maxQueueSize, concurrency),
      requestTimeoutMs: 300_000,
    },
    intraOpThreads: worker.intraOpThreads,
    workerNiceness: worker.workerNiceness,
    preprocessWorkers: worker.preprocessWorkers,
    logger: silentLogger,
  });
  let writer: ResultsFileWriter | undefined;
  let progress: BatchProgress | undefined;
  let pool: BatchPool<RowGroup, RowOutcome> | undefined;
  let results: CheckedOutput<BatchRecord> | undefined;
  const say = (line: string) => (progress ? progress.log(line) : io.stderr(line));

  // Ctrl-C (or SIGTERM): stop taking rows and let those in flight finish and be written; a second
  // signal stops waiting for them (they are not recorded, so --resume checks them again).
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) {
      say(`${signal} again: not waiting for the checks in flight (they will be checked again on --resume)`);
      pool?.abandon();
      return;
    }
    interrupted = signal;
    inFlightAtStop = pool?.stop() ?? 0;
    say(`${signal}: taking no new rows; finishing the ${inFlightAtStop} in flight (${signal} again to stop now)`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const model = await runtime.start();
    if (!model) {
      const error = runtime.loadError;
      io.stderr(`error ${error?.code ?? 'MODEL_INVALID'}: ${error?.message ?? 'the model did not load'}`);
      return summarise(EXIT.MODEL_ERROR);
    }
    for (const notice of modelNotices(model, provider)) io.stderr(notice);
    const worker = runtime.workerHost;
    worker.on('recycling', (reason: string) => say(`note: the inference worker stopped answering (${reason}); replacing it`));
    worker.on('restarted', () => say('note: the inference worker restarted'));
    if (interrupted) return summarise(128 + osConstants.signals[interrupted]);

    writer = toStdout ? undefined : ResultsFileWriter.open(out, recorded);
    const stdoutLines = stdoutSender(io);
    const send: Sender<BatchRecord> = writer ? fileSender(writer) : (record, done) => stdoutLines(JSON.stringify(record), done);
    // Results no one can get (stdout closed, the disk full): stop at once and drop the checks in
    // flight, which could not be written either (--resume checks them again into a file).
    const output = new CheckedOutput(send, () => pool?.abandon());
    results = output;
    // On the terminal that shows the bar, a result line must not start after the bar.
    const sharesTerminal = toStdout && stdoutSharesStderrTerminal(io);
    const write = (record: BatchRecord): boolean =>
      sharesTerminal && progress ? progress.above(() => output.write(record)) : output.write(record);
    const onDone = (group: RowGroup, outcome: RowOutcome) => {
      tally.checksDone += 1;
      if (outcome.kind === 'answered') tally.checked += 1;
      for (const row of [group.row, ...group.repeats]) {
        if (output.failure) return;
        if (!record(row, outcome)) return;
        if (row !== group.row) tally.repeated += 1;
      }
      progress?.update();
    };
    /** Writes (or reports) the row's outcome; false when the output has failed. */
    const record = (row: BatchRow, outcome: RowOutcome): boolean => {
      const identity = { line: row.line, image: row.image, caption: row.caption, ...(row.premise ? { premise: row.premise } : {}) };
      if (outcome.kind === 'answered') {
        const { label, score, scores, warnings, latency_ms, model: m } = outcome.result;
        if (!write({ ...identity, label, score, scores, warnings, latency_ms, model: m })) return false;
        tally.answered += 1;
        for (const w of warnings) say(`${where(row)}: warning ${w.code}: ${w.message}`);
      } else if (outcome.kind === 'refused') {
        if (!write({ ...identity, error: outcome.error.toJSON() })) return false;
        tally.refused += 1;
        say(`${where(row)}: error ${outcome.error.code}: ${outcome.error.message}`);
      } else {
        tally.failed += 1;
        if (!interrupted) say(`${where(row)}: error ${outcome.error.code}: ${outcome.error.message} (not recorded: --resume retries it)`);
        // The worker is gone for good (its restart failed): every further row would fail the same way.
        if (!runtime.service.model && !modelLost) {
          modelLost = outcome.error;
          pool?.stop();
        }
      }
      return true;
    };
    if (repeats > 0) {
      io.stderr(
        `${repeats} row${repeats === 1 ? ' repeats an earlier row' : 's repeat an earlier row'} (same image, caption and premise): checked once each`,
      );
    }
    pool = new BatchPool(groups, concurrency, (group) => checkRow(runtime.service, group.row, runtime.limits.maxImageBytes), onDone);
    progress = new BatchProgress(progressOutput(io), () => ({
      done: tally.answered + tally.refused + tally.failed,
      total: pending.length,
      checksLeft: groups.length - tally.checksDone,
      badInput: tally.refused,
      failed: tally.failed,
      // The rate is of model answers: a repeat is answered at once, as a bad row is refused at once.
      answered: tally.checked,
    }));
    progress.start();
    await pool.run();
    modelAnswers = await answersCounted(runtime);
    progress.stop();
    progress = undefined;
    await output.settled();
    let closeFailure: Error | undefined;
    try {
      writer?.close(); // its last fdatasync may be what fails
    } catch (err) {
      closeFailure = err as Error;
    }
    writer = undefined;

    const failure = output.failure ?? closeFailure;
    if (failure) {
      const before = recordedBefore > 0 ? ` (and ${recordedBefore} from an earlier run)` : '';
      const without = list.rows.length - recordedBefore - output.written;
      io.stderr(
        `error: ${outputFailureText(failure, out)}: ${output.written} result${output.written === 1 ? '' : 's'} written${before}; stopped with ${without} rows of ${list.rows.length} without a result`,
      );
      if (!toStdout) io.stderr(`to continue once it can: ${resumeCommand(argv, out)}`);
      return summarise(EXIT.OUTPUT_FAILED);
    }

    const destination = toStdout ? 'stdout' : out;
    const before = recordedBefore > 0 ? ` (and ${recordedBefore} rows from an earlier run)` : '';
    const unusable = list.problems.length > 0 ? ` · ${list.problems.length} unusable list lines` : '';
    const repeated = tally.repeated > 0 ? ` · ${tally.repeated} repeated row${tally.repeated === 1 ? '' : 's'} not checked again` : '';
    io.stderr(
      `${tally.answered} answered · ${tally.refused} bad input · ${tally.failed} failed${before}${unusable}${repeated} · results in ${destination}`,
    );
    if (modelLost) {
      io.stderr(`error ${modelLost.code}: the model stopped and could not be restarted: ${modelLost.message}`);
      if (!toStdout) io.stderr(`to continue once it works: ${resumeCommand(argv, out)}`);
      return summarise(EXIT.MODEL_ERROR);
    }
    if (interrupted) {
      const remaining = list.rows.length - recordedBefore - tally.answered - tally.refused;
      io.stderr(`interrupted: ${remaining} rows have no result yet`);
      if (!toStdout) io.stderr(`to continue: ${resumeCommand(argv, out)}`);
      return summarise(128 + osConstants.signals[interrupted]);
    }
    if (tally.failed > 0) {
      io.stderr(`${tally.failed} rows failed on our side and were not recorded`);
      if (!toStdout) io.stderr(`to retry them: ${resumeCommand(argv, out)}`);
      return summarise(EXIT.FAILURE);
    }
    return summarise(badInputExit());
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    progress?.stop();
    writer?.close();
    // Abandoned checks (a second signal, a failed output) are not waited for.
    await runtime.close(interrupted || results?.failure ? 0 : 5000);
  }
}
