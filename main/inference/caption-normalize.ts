/** OFA's SNLI-VE prompt; the caption it is filled with is normalised by preload/caption-normalize.ts. */
export interface PromptTemplates {
  readonly prompt: string;
  readonly promptWithPremise: string;
}

/** Fills OFA's SNLI-VE prompt; the premise variant is used when a premise caption is given. */
export function buildPrompt(templates: PromptTemplates, text: string, premise?: string): string {
  if (premise === undefined) return templates.prompt.replace('{text}', () => text);
  return templates.promptWithPremise.replace('{premise}', () => premise).replace('{text}', () => text);
}
