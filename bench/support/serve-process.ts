/**
 * The real `ofa-ve serve` as a child process, for the benchmarks and the tests that need the whole
 * program (bin, CLI, service, worker). It lives under bench/ so that both may use it: bench/ never
 * imports test/.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface ServeProcess {
  child: ChildProcess;
  url: string;
  logs: string[];
  stop(): Promise<number | null>;
}

/** Runs the real `ofa-ve serve --port 0` and resolves once the model has loaded (or failed to). */
export async function startServe(args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<ServeProcess> {
  // No per-minute history on disk unless a test asks for it (several serves may run at once).
  const dataDir = args.includes('--data-dir') ? [] : ['--data-dir', 'none'];
  const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin/ofa-ve.js'), 'serve', '--port', '0', ...dataDir, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  let pending = '';
  const url = await new Promise<string>((resolve, reject) => {
    let found: string | undefined;
    const timer = setTimeout(() => reject(new Error(`ofa-ve serve did not start in 30 s:\n${logs.join('\n')}`)), 30_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      pending += String(chunk);
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        logs.push(line);
        found ??= /"url":"([^"]+)"/.exec(line)?.[1];
        if (found && /"msg":"model (not )?loaded"/.test(line)) {
          clearTimeout(timer);
          resolve(found);
        }
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => logs.push(String(chunk)));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`ofa-ve serve exited with ${code}:\n${logs.join('\n')}`));
    });
  });
  return {
    child,
    url,
    logs,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number | null];
      return code;
    },
  };
}
