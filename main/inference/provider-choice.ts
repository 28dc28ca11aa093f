/**
 * The execution-provider choice, apart from onnx-session.ts so that the service process (which
 * never runs the model: its worker does) can parse `--provider` without loading onnxruntime.
 */
export type ProviderChoice = 'auto' | 'cuda' | 'cpu';
export type Provider = 'cuda' | 'cpu';
export const PROVIDER_CHOICES: readonly ProviderChoice[] = ['auto', 'cuda', 'cpu'];
