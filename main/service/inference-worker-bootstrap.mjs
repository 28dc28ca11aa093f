// Source-tree entry of the inference worker process: registers the tsx loader before importing
// the TypeScript (a build forks out/main/inference-worker.js instead).
import { register } from 'tsx/esm/api';

register();
await import('./inference-worker.ts');
