import { guardStdio } from '../logging/stdio-guard.ts';
import { processIo, type CliIo } from './cli-io.ts';
import { EXIT, PathError, UsageError } from './exit-codes.ts';
import { joinNegativeOptionValues } from './negative-option-values.ts';

const USAGE = `usage: ofa-ve <command> [options]

commands:
  serve              run the HTTP API and /metrics (headless mode)
  check IMAGE TEXT   check one image against a caption (YES / NO / MAYBE)
  check --batch LIST check every pair of a CSV or JSONL list; results as JSON lines, resumable
  bench              load sweep: QPS, latency percentiles, stages (and the raw-pipeline ceiling)
  bench compare A B  compare two bench --json results (CI gate: exit 1 on a significant regression)

run 'ofa-ve <command> --help' for a command's options`;

interface Command {
  readonly usage: string;
  readonly run: (argv: string[], io: CliIo) => Promise<number>;
}

// Each command is loaded on use: `serve` never runs the model in its own process (the worker
// does), so it should not pay for loading onnxruntime, sharp and the bench at start-up.
const COMMANDS: Record<string, () => Promise<Command>> = {
  serve: async () => {
    const m = await import('./serve-command.ts');
    return { usage: m.SERVE_USAGE, run: m.runServe };
  },
  check: async () => {
    const m = await import('./check-command.ts');
    return { usage: m.CHECK_USAGE, run: m.runCheck };
  },
  bench: async () => {
    const m = await import('./bench-command.ts');
    return { usage: m.BENCH_USAGE, run: m.runBench };
  },
};

export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  // A closed pipe (`ofa-ve serve | head -1`, a log shipper gone) must not crash a serving process,
  // whoever writes: our logger, console.*, a library.
  if (io === processIo) guardStdio();
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(USAGE);
    return name === undefined ? EXIT.BAD_INPUT : EXIT.OK;
  }
  const load = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!load) {
    io.stderr(`ofa-ve: unknown command "${name}"\n${USAGE}`);
    return EXIT.BAD_INPUT;
  }
  const command = await load();
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout(command.usage);
    return EXIT.OK;
  }
  try {
    return await command.run(joinNegativeOptionValues(rest), io);
  } catch (err) {
    if (err instanceof PathError) {
      io.stderr(`ofa-ve ${name}: ${err.message}`);
      return EXIT.BAD_INPUT;
    }
    // parseArgs reports unknown or malformed options with a TypeError carrying an ERR_PARSE_ARGS code.
    const code = (err as { code?: string }).code ?? '';
    if (err instanceof UsageError || code.startsWith('ERR_PARSE_ARGS')) {
      io.stderr(`ofa-ve ${name}: ${(err as Error).message}\n${command.usage}`);
      return EXIT.BAD_INPUT;
    }
    throw err;
  }
}
