/** Runs the `ofa-ve` CLI's main() in this process, collecting what it prints (faster than spawning bin/ofa-ve.js). */
import type { CliIo } from '../../main/cli/cli-io.ts';
import { main } from '../../main/cli/ofa-ve.ts';

export interface CliRun {
  code: number;
  out: string;
  err: string;
}

export async function cli(args: string[]): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { stdout: (l) => out.push(l), stderr: (l) => err.push(l), debug: () => {} };
  const code = await main(args, io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}
