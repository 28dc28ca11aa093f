/**
 * Drives bench/ofa-arch-torch.py (OFA's PyTorch eager forward) one request at a time over stdin/stdout,
 * so that bench/ofa-arch-bench.ts can alternate PyTorch and onnxruntime runs within one loop.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface, type Interface } from 'node:readline';

export interface TorchPeerInputs {
  readonly size: number;
  /** [n, 3, size, size] float32, the engine's own pixel tensors. */
  readonly pixels: Float32Array;
  /** The engine's encoder ids per pair. */
  readonly ids: readonly (readonly number[])[];
  /** YES, NO, MAYBE token ids. */
  readonly answers: readonly [number, number, number];
}

export interface TorchRun {
  readonly ms: number;
  /** CPU time of the Python process (all threads) during the forward. */
  readonly cpu_ms: number;
  /** YES, NO, MAYBE logits at the last decoder position. */
  readonly logits: [number, number, number];
}

export class TorchPeer {
  private readonly pending: ((line: string) => void)[] = [];
  private readonly stderr: string[] = [];

  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    private readonly lines: Interface,
  ) {
    lines.on('line', (line) => this.pending.shift()?.(line));
    child.stderr.on('data', (chunk: Buffer) => {
      this.stderr.push(chunk.toString());
      if (this.stderr.length > 50) this.stderr.shift();
    });
  }

  /** Starts the peer and waits until it has loaded the model; resolves with its ready line. */
  static async start(options: {
    python: string;
    script: string;
    portDir: string;
    checkpoint: string;
    workDir: string;
    inputs: TorchPeerInputs;
  }): Promise<{ peer: TorchPeer; ready: { load_s: number; torch: string; parameters: number } }> {
    const pixelsFile = path.join(options.workDir, 'torch-pixels.bin');
    const inputsFile = path.join(options.workDir, 'torch-inputs.json');
    const { pixels, size, ids, answers } = options.inputs;
    await writeFile(pixelsFile, new Uint8Array(pixels.buffer, pixels.byteOffset, pixels.byteLength));
    await writeFile(inputsFile, JSON.stringify({ pixels: pixelsFile, size, ids, answers }));
    const child = spawn(
      options.python,
      [options.script, '--port', options.portDir, '--checkpoint', options.checkpoint, '--inputs', inputsFile],
      {
        stdio: ['pipe', 'pipe', 'pipe'],
        // Threads are set per request; OMP_NUM_THREADS only bounds the pool torch starts with.
        env: { ...process.env, OMP_NUM_THREADS: '2' },
      },
    );
    const peer = new TorchPeer(child, createInterface({ input: child.stdout }));
    const ready = JSON.parse(await peer.next()) as { load_s: number; torch: string; parameters: number };
    return { peer, ready };
  }

  private next(): Promise<string> {
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`ofa-arch-torch.py exited (${code}): ${this.stderr.join('').slice(-2000)}`));
      this.child.once('exit', onExit);
      this.pending.push((line) => {
        this.child.off('exit', onExit);
        resolve(line);
      });
    });
  }

  async run(threads: number, index: number): Promise<TorchRun> {
    const answer = this.next();
    this.child.stdin.write(`${JSON.stringify({ threads, index })}\n`);
    return JSON.parse(await answer) as TorchRun;
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.stdin.end();
    this.lines.close();
    await exited;
  }
}
