import { BENCH_USAGE, runBench } from './bench-command.ts';
import { CHECK_USAGE, runCheck } from './check-command.ts';
import { SERVE_USAGE, runServe } from './serve-command.ts';
import { processIo, type CliIo } from './cli-io.ts';
import { EXIT, UsageError } from './exit-codes.ts';

const USAGE = `usage: ofa-ve <command> [options]

commands:
  serve              run the HTTP API and /metrics (headless mode)
  check IMAGE TEXT   check one image against a caption (YES / NO / MAYBE)
  bench              load sweep: QPS, latency percentiles, stages (and the raw-pipeline ceiling)

run 'ofa-ve <command> --help' for a command's options`;

const COMMANDS: Record<string, { usage: string; run: (argv: string[], io: CliIo) => Promise<number> }> = {
  serve: { usage: SERVE_USAGE, run: runServe },
  check: { usage: CHECK_USAGE, run: runCheck },
  bench: { usage: BENCH_USAGE, run: runBench },
};

export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(USAGE);
    return name === undefined ? EXIT.BAD_INPUT : EXIT.OK;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.stderr(`ofa-ve: unknown command "${name}"\n${USAGE}`);
    return EXIT.BAD_INPUT;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout(command.usage);
    return EXIT.OK;
  }
  try {
    return await command.run(rest, io);
  } catch (err) {
    // parseArgs reports unknown or malformed options with a TypeError carrying an ERR_PARSE_ARGS code.
    const code = (err as { code?: string }).code ?? '';
    if (err instanceof UsageError || code.startsWith('ERR_PARSE_ARGS')) {
      io.stderr(`ofa-ve ${name}: ${(err as Error).message}\n${command.usage}`);
      return EXIT.BAD_INPUT;
    }
    throw err;
  }
}
