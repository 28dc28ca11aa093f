/** What `ofa-ve bench` can load: the service in this process, running instances over HTTP, the raw pipeline. */
import { toCheckError } from '../../errors.ts';
import { EntailmentEngine, type PreparedPair } from '../../inference/entailment-engine.ts';
import type { ProviderChoice } from '../../inference/provider-choice.ts';
import type { ServiceRuntime } from '../../service/service-runtime.ts';
import type { NamedCheckPair } from '../../../preload/wire-types.ts';
import { NO_ANSWER_CODE, type CheckTarget } from './load-generator.ts';

/** The app in-process: straight into the CheckService (queue, batcher, worker, metrics, live stats). */
export function inProcessTarget(runtime: ServiceRuntime): CheckTarget {
  return async (pair) => {
    const t0 = performance.now();
    try {
      const answer = await runtime.service.check({ image: pair.image, text: pair.text });
      return { ok: true, latencyMs: performance.now() - t0, stages: { ...answer.stages } };
    } catch (err) {
      return { ok: false, code: toCheckError(err).code, latencyMs: performance.now() - t0 };
    }
  };
}

/** A running instance over HTTP (multipart, as the browser UI and scripts send it). */
export function httpTarget(baseUrl: string, token?: string): CheckTarget {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  const blobs = new Map<NamedCheckPair, Blob>();
  return async (pair) => {
    let blob = blobs.get(pair);
    if (!blob) blobs.set(pair, (blob = new Blob([new Uint8Array(pair.image)])));
    const form = new FormData();
    form.append('image', blob, pair.name);
    form.append('text', pair.text);
    const t0 = performance.now();
    try {
      const res = await fetch(`${baseUrl}/api/v1/check`, { method: 'POST', body: form, headers });
      const body = (await res.json()) as { stages?: Record<string, number>; error?: { code: string } };
      const latencyMs = performance.now() - t0;
      return res.ok
        ? { ok: true, latencyMs, stages: body.stages }
        : { ok: false, code: body.error?.code ?? `HTTP_${res.status}`, latencyMs };
    } catch {
      return { ok: false, code: NO_ANSWER_CODE, latencyMs: performance.now() - t0 };
    }
  };
}

/** One of several running instances: its URL (as given, no trailing slash) and its target. */
export interface Replica {
  url: string;
  target: CheckTarget;
}

/**
 * Several running instances loaded as one, as a load balancer without affinity spreads requests:
 * request i goes to replicas[i % n]. Each sample names the replica it went to, for per-replica figures.
 */
export function roundRobinTarget(replicas: readonly Replica[]): CheckTarget {
  if (replicas.length === 0) throw new Error('roundRobinTarget needs at least one replica');
  let sent = 0;
  return async (pair) => {
    const replica = replicas[sent++ % replicas.length]!;
    return { ...(await replica.target(pair)), replica: replica.url };
  };
}

export interface RawPipelineFigures {
  batchSize: number;
  pairsPerS: number;
  /** Median time of one batch (preprocess every pair, then one session.run). */
  batchMs: number;
  /** Per pair at batch 1: the latency floor the app is compared with. */
  perPairMs: number;
}

/**
 * The ceiling on this machine: the same preprocessing and session.run in a tight loop in this
 * thread, no service, no queue, no metrics. Pairs are prepared concurrently per batch, as the
 * worker does.
 */
export class RawPipeline {
  private cursor = 0;

  private constructor(
    private readonly engine: EntailmentEngine,
    private readonly pairs: readonly NamedCheckPair[],
  ) {}

  static async open(modelDir: string, provider: ProviderChoice, pairs: readonly NamedCheckPair[]): Promise<RawPipeline> {
    return new RawPipeline(await EntailmentEngine.load(modelDir, { provider }), pairs);
  }

  /** One batch of the next `size` pairs: preprocess them all, then one session.run. */
  async runBatch(size: number): Promise<void> {
    const batch = Array.from({ length: size }, () => this.pairs[this.cursor++ % this.pairs.length]!);
    const prepared: PreparedPair[] = await Promise.all(batch.map((p) => this.engine.prepare({ image: p.image, text: p.text })));
    await this.engine.run(prepared);
  }

  /** One pair end to end, timed as a client would time the app. */
  async checkOne(pair: NamedCheckPair): Promise<number> {
    const t0 = performance.now();
    await this.engine.run([await this.engine.prepare({ image: pair.image, text: pair.text })]);
    return performance.now() - t0;
  }

  /** Pairs per second at `size`, run for `seconds` (after 3 warm-up batches). */
  async measure(size: number, seconds: number): Promise<RawPipelineFigures> {
    for (let i = 0; i < 3; i++) await this.runBatch(size);
    const times: number[] = [];
    const started = performance.now();
    let pairsDone = 0;
    while (performance.now() - started < seconds * 1000) {
      const t0 = performance.now();
      await this.runBatch(size);
      times.push(performance.now() - t0);
      pairsDone += size;
    }
    const elapsed = (performance.now() - started) / 1000;
    times.sort((a, b) => a - b);
    const batchMs = times[Math.floor(times.length / 2)]!;
    return { batchSize: size, pairsPerS: pairsDone / elapsed, batchMs, perPairMs: batchMs / size };
  }

  async close(): Promise<void> {
    await this.engine.close();
  }
}
