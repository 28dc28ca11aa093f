import { parentPort, workerData } from 'node:worker_threads';
import { toCheckError } from '../../errors.ts';
import { PairPreparer } from '../../inference/entailment-engine.ts';
import type { FromPreprocessThread, PrepareTask, PreprocessThreadData } from './preprocess-messages.ts';

/**
 * A preprocessing thread of the inference worker: decodes, resizes and normalises the image and
 * tokenizes the caption of one pair at a time, and hands the pixels back by transfer (no copy).
 * A thread, not a process: it never runs onnxruntime (whose runs abort the process when their
 * thread is terminated), and a transfer between threads moves a buffer without copying it.
 */
const port = parentPort;
if (!port) throw new Error('preprocess-thread must run in a worker thread');
const post = (message: FromPreprocessThread, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

let preparer: PairPreparer;
try {
  preparer = PairPreparer.fromSource((workerData as PreprocessThreadData).source);
} catch (err) {
  post({ type: 'load-failed', error: toCheckError(err).toJSON() });
  throw err;
}
const floats = preparer.pixelsPerPair;

port.on('message', (task: PrepareTask) => {
  const out = task.reuse?.byteLength === floats * 4 ? new Float32Array(task.reuse) : new Float32Array(floats);
  preparer.prepare({ image: task.image, text: task.text, premise: task.premise }, out, 0).then(
    (pair) => {
      const { encoderIds, decodeImageMs, tokenizeMs, input } = pair;
      post({ type: 'prepared', taskId: task.taskId, pixels: out, encoderIds: [...encoderIds], decodeImageMs, tokenizeMs, input }, [
        out.buffer as ArrayBuffer,
      ]);
    },
    (err: unknown) => {
      // The buffer goes back with the refusal, so a run of bad uploads allocates nothing.
      post({ type: 'refused', taskId: task.taskId, error: toCheckError(err).toJSON(), spare: out.buffer as ArrayBuffer }, [
        out.buffer as ArrayBuffer,
      ]);
    },
  );
});
post({ type: 'ready' });
