/**
 * The real `ofa-ve` CLI (or a shell around it) as a child process for integration tests: its own
 * process group, so that a hang is ended with everything it started, and a time limit after which
 * it is killed (the test then fails instead of the suite hanging).
 */
import { spawn, type StdioOptions } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from './shared-reference.ts';

export const BIN = path.join(REPO_ROOT, 'bin', 'ofa-ve.js');

export interface ChildRun {
  readonly child: ReturnType<typeof spawn>;
  readonly stderr: () => string;
  readonly stdout: () => string;
  /** Exit code, or the signal that ended the process. */
  readonly exited: Promise<number | NodeJS.Signals>;
}

/** SIGKILL to the child's process group (a no-op once it has exited). */
export function killGroup(child: ReturnType<typeof spawn>): void {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

/** Starts `command args` in the repository, its output collected, killed with its group after `limitMs`. */
export function startChild(command: string, args: string[], options: { limitMs: number; stdio?: StdioOptions }): ChildRun {
  const child = spawn(command, args, {
    cwd: REPO_ROOT,
    stdio: options.stdio ?? ['ignore', 'pipe', 'pipe'],
    detached: true,
    env: { ...process.env, OFA_VE_DEBUG: '' },
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += String(chunk)));
  child.stderr?.on('data', (chunk: Buffer) => (err += String(chunk)));
  const guard = setTimeout(() => killGroup(child), options.limitMs);
  const exited = new Promise<number | NodeJS.Signals>((resolve) =>
    child.once('exit', (code, signal) => {
      clearTimeout(guard);
      resolve(code ?? (signal as NodeJS.Signals));
    }),
  );
  return { child, stderr: () => err, stdout: () => out, exited };
}
