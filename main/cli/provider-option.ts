import { PROVIDER_CHOICES, type ProviderChoice } from '../inference/provider-choice.ts';
import { UsageError } from './exit-codes.ts';

/** `--provider` of every command: auto (the default), cuda or cpu; anything else is a usage error. */
export function parseProvider(value: string | undefined): ProviderChoice {
  const provider = (value ?? 'auto') as ProviderChoice;
  if (!PROVIDER_CHOICES.includes(provider)) throw new UsageError(`--provider must be one of ${PROVIDER_CHOICES.join(', ')}`);
  return provider;
}
