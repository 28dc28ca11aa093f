// Preloaded into `ofa-ve serve` by the soak test (NODE_OPTIONS=--import=…): SIGUSR2 runs a full
// garbage collection, so the heap sampled right after it is what is really retained, not garbage
// waiting for the next major GC. Changes nothing else in the process.
import v8 from 'node:v8';
import vm from 'node:vm';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');
process.on('SIGUSR2', () => gc());
