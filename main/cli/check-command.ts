import { parseArgs } from 'node:util';
import { defaultModelDir } from '../config.ts';
import { toCheckError } from '../errors.ts';
import { EntailmentEngine } from '../inference/entailment-engine.ts';
import { LABELS, STAGES, type EntailmentResult, type ModelInfo } from '../inference/entailment-types.ts';
import { PROVIDER_CHOICES, type ProviderChoice } from '../inference/provider-choice.ts';
import { EXIT, UsageError, exitCodeFor } from './exit-codes.ts';
import type { CliIo } from './cli-io.ts';

export const CHECK_USAGE = `usage: ofa-ve check IMAGE TEXT [--premise P] [--model DIR] [--provider auto|cuda|cpu] [--json]

Checks whether TEXT describes IMAGE (visual entailment): YES, NO or MAYBE with a score.
exit status: 0 result printed, 2 bad input, 3 model problem`;

export const DEMO_WARNING =
  'warning: the demo model is loaded: it has random weights, so its answers are not meaningful (see models/README.md)';

function parseProvider(value: string | undefined): ProviderChoice {
  const provider = (value ?? 'auto') as ProviderChoice;
  if (!PROVIDER_CHOICES.includes(provider)) {
    throw new UsageError(`--provider must be one of ${PROVIDER_CHOICES.join(', ')}`);
  }
  return provider;
}

function formatHuman(result: EntailmentResult, model: ModelInfo): string {
  const scores = LABELS.map((l) => `${l.toLowerCase()} ${result.scores[l].toFixed(3)}`).join(' · ');
  const stages = STAGES.filter((s) => result.stages[s] !== undefined)
    .map((s) => `${s} ${(result.stages[s] as number).toFixed(1)} ms`)
    .join(' · ');
  return [
    `${result.label} ${result.score.toFixed(3)}  (${scores})`,
    `stages: ${stages}`,
    `model: ${model.name} ${model.version} on ${model.provider}${model.demo ? ' (demo)' : ''}`,
  ].join('\n');
}

export async function runCheck(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      premise: { type: 'string' },
      model: { type: 'string' },
      provider: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  if (positionals.length !== 2) throw new UsageError('check takes exactly two arguments: IMAGE and TEXT');
  const [imagePath, text] = positionals as [string, string];
  const provider = parseProvider(values.provider);

  let engine: EntailmentEngine | undefined;
  try {
    engine = await EntailmentEngine.load(values.model ?? defaultModelDir(), { provider });
    if (engine.info.demo) io.stderr(DEMO_WARNING);
    if (engine.info.providerFallbackReason && provider === 'auto') {
      io.stderr(`note: running on CPU (${engine.info.providerFallbackReason})`);
    }
    const result = await engine.checkFile(imagePath, text, values.premise);
    const model = engine.info;
    if (values.json) {
      io.stdout(
        JSON.stringify({
          label: result.label,
          score: result.score,
          scores: result.scores,
          stages: result.stages,
          model: { name: model.name, version: model.version, provider: model.provider, demo: model.demo },
          demo: model.demo,
        }),
      );
    } else {
      io.stdout(formatHuman(result, model));
    }
    return EXIT.OK;
  } catch (err) {
    const error = toCheckError(err);
    if (error.code === 'INTERNAL') io.debug(err);
    io.stderr(`error ${error.code}: ${error.message}`);
    if (values.json) io.stdout(JSON.stringify({ error: error.toJSON() }));
    return exitCodeFor(error);
  } finally {
    await engine?.close();
  }
}
