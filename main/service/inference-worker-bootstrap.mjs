// Source-tree entry of the inference worker: a worker thread does not inherit the tsx loader
// that bin/ofa-ve.js registered, so it registers its own before importing the TypeScript.
import { register } from 'tsx/esm/api';

register();
await import('./inference-worker.ts');
