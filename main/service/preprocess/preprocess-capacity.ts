import { PairPreparer } from '../../inference/entailment-engine.ts';
import type { CheckPair } from '../../../preload/wire-types.ts';
import { usableCores } from '../../inference/usable-cores.ts';
import { simulatedCapacity, type SimulatedAcceleratorSpec } from '../simulated-accelerator-spec.ts';

/** What the machine's cores can preprocess: the ceiling a pipeline is judged against. */
export interface PreprocessCapacity {
  /** Mean time to prepare one pair (decode, resize, normalise, tokenize) on one thread. */
  readonly msPerPair: number;
  readonly cores: number;
  /** cores × one thread's rate: every core preprocessing, nothing else running. */
  readonly pairsPerS: number;
  /** Pairs the mean was taken over. */
  readonly pairs: number;
}

/**
 * Times preprocessing one pair after another in this thread (after one warm-up pass over the set),
 * for about `seconds`, and scales one thread's rate by the cores.
 */
export async function measurePreprocessCapacity(
  modelDir: string,
  inputs: readonly CheckPair[],
  options: { readonly seconds: number; readonly cores?: number },
): Promise<PreprocessCapacity> {
  if (inputs.length === 0) throw new RangeError('no pairs to measure preprocessing on');
  const preparer = await PairPreparer.load(modelDir);
  const out = new Float32Array(preparer.pixelsPerPair);
  for (const input of inputs) await preparer.prepare(input, out, 0);
  let done = 0;
  const started = performance.now();
  while (performance.now() - started < options.seconds * 1000 || done < inputs.length) {
    await preparer.prepare(inputs[done % inputs.length] as CheckPair, out, 0);
    done += 1;
  }
  const msPerPair = (performance.now() - started) / done;
  const cores = options.cores ?? usableCores();
  return { msPerPair, cores, pairsPerS: (cores * 1000) / msPerPair, pairs: done };
}

/** The most a pipeline can serve: the slower of the accelerator and the cores' preprocessing. */
export interface PipelineBound {
  /** The simulated accelerator's pairs/s at full batches. */
  readonly acceleratorQps: number;
  readonly preprocessQps: number;
  readonly boundQps: number;
  readonly limitedBy: 'accelerator' | 'preprocessing';
}

export function pipelineBound(accelerator: SimulatedAcceleratorSpec, maxBatchSize: number, preprocess: PreprocessCapacity): PipelineBound {
  const acceleratorQps = simulatedCapacity(accelerator, maxBatchSize);
  const preprocessQps = preprocess.pairsPerS;
  return {
    acceleratorQps,
    preprocessQps,
    boundQps: Math.min(acceleratorQps, preprocessQps),
    limitedBy: acceleratorQps <= preprocessQps ? 'accelerator' : 'preprocessing',
  };
}
