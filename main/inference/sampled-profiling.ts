/**
 * Sampled operator profiling (`serve --profile-sample-rate R`): a fraction R of batches runs on a
 * second session of the same graph, created with onnxruntime's profiler on, and its operator events
 * go into the traces of that batch's requests (ort-profile.ts reads them).
 *
 * Why a second session: onnxruntime-node profiles only a session created with `enableProfiling`
 * (its startProfiling is a no-op), from creation on, and `endProfiling()` writes the file and stops
 * for good. So a profiled batch uses up its session: after the run the profile is read, the file
 * deleted and the session released, and the next one is created in the background (its first run,
 * which allocates its memory, done on a small warm-up batch so the sampled run is a steady one). A
 * sample that finds none ready runs unprofiled. The cost: a second copy of the weights in memory
 * while R > 0; with R = 0 no such session exists and the service's session is used as it is.
 *
 * Files: one folder per process in os.tmpdir() (`ofa-ve-profiles-<pid>-…`), emptied as each
 * profile is read and removed on exit; folders left by a process that died are removed by the next.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { OperatorProfile } from '../../preload/trace-spans.ts';
import { buildModelFeeds } from './model-feeds.ts';
import { operatorProfileOf } from './ort-profile.ts';

const FOLDER_PREFIX = 'ofa-ve-profiles-';

/** Opens the graph again with the profiler on, writing to files that start with `prefix`. */
export type ProfiledSessionFactory = (prefix: string) => Promise<ort.InferenceSession>;

interface ProfilingSession {
  readonly session: ort.InferenceSession;
  /** The profile file's name starts with this (onnxruntime appends the date and `.json`). */
  readonly prefix: string;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes the folders of processes that are gone (killed before they could clean up). */
function removeOrphanedFolders(tmp: string): void {
  let names: string[];
  try {
    names = readdirSync(tmp);
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(/^ofa-ve-profiles-(\d+)-/.exec(name)?.[1]);
    if (Number.isInteger(pid) && pid !== process.pid && !isAlive(pid)) rmSync(path.join(tmp, name), { recursive: true, force: true });
  }
}

/** This process's profile folder: created on first use, removed when the process exits. */
let processFolder: string | undefined;
function profileFolder(): string {
  if (processFolder) return processFolder;
  const tmp = os.tmpdir();
  removeOrphanedFolders(tmp);
  const folder = mkdtempSync(path.join(tmp, `${FOLDER_PREFIX}${process.pid}-`));
  processFolder = folder;
  process.once('exit', () => rmSync(folder, { recursive: true, force: true }));
  return folder;
}

async function runOnce(session: ort.InferenceSession, feeds: Record<string, ort.Tensor>): Promise<void> {
  const output = await session.run(feeds);
  for (const value of Object.values(output)) value.dispose();
}

export interface SampledProfilingOptions {
  /** Fraction of batches profiled, (0, 1]. */
  readonly sampleRate: number;
  /** The graph's image side, for the warm-up batch. */
  readonly imageSize: number;
  /** Uniform in [0, 1) (tests pass their own). */
  readonly random?: () => number;
  /** Told once when a profiling session cannot be made or read (batches then run unprofiled). */
  readonly warn?: (message: string) => void;
}

/**
 * Runs batches on the service's session, a sampled fraction on a profiling session; after each
 * run, `takeProfile()` gives that run's operator events (undefined when it was not profiled). One
 * run at a time, each followed by its takeProfile, as the inference worker does.
 */
export class SampledProfilingRunner {
  private ready: ProfilingSession | undefined;
  /** The session the last run used, if it was a profiling one: takeProfile ends it. */
  private ran: ProfilingSession | undefined;
  private preparing: Promise<void> | undefined;
  /** The used session being released and its file removed. */
  private discarding: Promise<void> | undefined;
  /** The last profiled run's profile being read (takeProfile). */
  private taking: Promise<OperatorProfile | undefined> | undefined;
  private released = false;
  private warned = false;
  private made = 0;
  private readonly random: () => number;

  private constructor(
    private readonly main: ort.InferenceSession,
    private readonly open: ProfiledSessionFactory,
    private readonly options: SampledProfilingOptions,
  ) {
    this.random = options.random ?? Math.random;
  }

  /** Wraps `main`; resolves once the first profiling session is ready (or could not be made), so the first sample finds it. */
  static async start(
    main: ort.InferenceSession,
    open: ProfiledSessionFactory,
    options: SampledProfilingOptions,
  ): Promise<SampledProfilingRunner> {
    const rate = options.sampleRate;
    if (!(rate > 0 && rate <= 1)) throw new RangeError(`the profile sample rate must be in (0, 1], got ${rate}`);
    // The folder (and the sweep of folders left by dead processes, synchronous) at start-up, never on the batch path.
    profileFolder();
    const runner = new SampledProfilingRunner(main, open, options);
    runner.prepareNext();
    await runner.preparing;
    return runner;
  }

  run(feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.OnnxValue>> {
    if (this.random() >= this.options.sampleRate) return this.main.run(feeds);
    const profiled = this.ready;
    if (!profiled) {
      // None ready (still being made, or the last attempt failed): unprofiled, and try again.
      this.prepareNext();
      return this.main.run(feeds);
    }
    this.ready = undefined;
    this.ran = profiled;
    return profiled.session.run(feeds);
  }

  /**
   * The last run's operator events if it was profiled (undefined at once if not, so an unsampled
   * batch waits for nothing); ends and removes its session and file, and makes the next. Its session
   * is ended before the first await, so the next run may start while the file is still being read
   * (the worker answers first; the profile follows).
   */
  takeProfile(): Promise<OperatorProfile | undefined> | undefined {
    const ran = this.ran;
    if (!ran) return undefined;
    this.ran = undefined;
    const taking = this.take(ran);
    this.taking = taking;
    const done = () => {
      if (this.taking === taking) this.taking = undefined;
    };
    taking.then(done, done);
    return taking;
  }

  private async take(ran: ProfilingSession): Promise<OperatorProfile | undefined> {
    try {
      ran.session.endProfiling();
      return operatorProfileOf(JSON.parse(await readFile(await this.fileOf(ran), 'utf8')));
    } catch (err) {
      this.warnOnce(`the operator profile could not be read: ${(err as Error).message}`);
      return undefined;
    } finally {
      // After the answer: releasing the session and making the next need not delay the batch.
      this.discarding = this.discard(ran).finally(() => {
        this.discarding = undefined;
        this.prepareNext();
      });
    }
  }

  async release(): Promise<void> {
    this.released = true;
    // A profile still being read: its session is discarded when the read ends.
    await this.taking;
    await this.discarding;
    await this.preparing;
    for (const s of [this.ready, this.ran]) if (s) await this.discard(s);
    this.ready = undefined;
    this.ran = undefined;
    await this.main.release();
  }

  private prepareNext(): void {
    if (this.released || this.ready || this.preparing) return;
    this.preparing = this.make()
      .then((made) => {
        if (this.released) return this.discard(made);
        this.ready = made;
      })
      .catch((err: unknown) => this.warnOnce(`no profiling session: ${(err as Error).message}`))
      .finally(() => (this.preparing = undefined));
  }

  private async make(): Promise<ProfilingSession> {
    const prefix = path.join(profileFolder(), `session-${++this.made}`);
    const made = { session: await this.open(prefix), prefix };
    const { imageSize } = this.options;
    const feeds = buildModelFeeds(new Float32Array(3 * imageSize * imageSize), [{ encoderIds: [0, 0] }], imageSize, 0);
    try {
      await runOnce(made.session, feeds);
    } catch {
      // A graph with fixed text lengths refuses the short batch: the sampled run is then its first, which still profiles.
    } finally {
      for (const tensor of Object.values(feeds)) tensor.dispose();
    }
    return made;
  }

  private async fileOf(s: ProfilingSession): Promise<string> {
    const folder = path.dirname(s.prefix);
    const start = `${path.basename(s.prefix)}_`;
    const name = (await readdir(folder)).find((f) => f.startsWith(start) && f.endsWith('.json'));
    if (!name) throw new Error(`onnxruntime wrote no profile in ${folder}`);
    return path.join(folder, name);
  }

  private async discard(s: ProfilingSession): Promise<void> {
    await s.session.release().catch(() => undefined);
    const file = await this.fileOf(s).catch(() => undefined);
    if (file) await rm(file, { force: true });
  }

  private warnOnce(message: string): void {
    if (this.warned) return;
    this.warned = true;
    this.options.warn?.(message);
  }
}
