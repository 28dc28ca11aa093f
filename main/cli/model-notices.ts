/**
 * What `ofa-ve check` (one pair, or --batch) says on stderr about the model it loaded, before any
 * result: the demo model's answers mean nothing, and `--provider auto` fell back to the CPU. One
 * wording for both paths, so scripts that grep stderr see the same lines.
 */
import { DEMO_WARNING } from '../config.ts';
import type { ModelInfo } from '../inference/entailment-types.ts';
import type { ProviderChoice } from '../inference/provider-choice.ts';

/** The stderr lines about `model` (none for a real model on the provider asked for). */
export function modelNotices(model: Pick<ModelInfo, 'demo' | 'providerFallbackReason'>, provider: ProviderChoice): string[] {
  const notices: string[] = [];
  if (model.demo) notices.push(`warning: ${DEMO_WARNING}`);
  // An explicit --provider cpu chose the CPU: nothing fell back.
  if (model.providerFallbackReason && provider === 'auto') notices.push(`note: running on CPU (${model.providerFallbackReason})`);
  return notices;
}
