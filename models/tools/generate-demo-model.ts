/**
 * Generates the demo model directory (models/README.md contract):
 *
 *   node --import tsx models/tools/generate-demo-model.ts [--out DIR]     (default: models/demo)
 *
 * The output depends on nothing but this code, so re-running it reproduces the same bytes.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Tokenizer } from '@huggingface/tokenizers';
import { DEMO_LAYERS, writeDemoModelDirectory } from './demo-model-directory.ts';

const defaultOut = join(dirname(fileURLToPath(import.meta.url)), '..', 'demo');
const { values } = parseArgs({ options: { out: { type: 'string', default: defaultOut } } });

const started = Date.now();
const summary = await writeDemoModelDirectory(resolve(values.out ?? defaultOut));
const total = Object.values(summary.bytes).reduce((a, b) => a + b, 0);
console.log(`wrote ${summary.outDir} in ${Date.now() - started} ms`);
for (const [name, bytes] of Object.entries(summary.bytes)) console.log(`  ${name.padEnd(22)} ${bytes} bytes`);
console.log(`  total ${(total / 1048576).toFixed(2)} MiB`);
console.log(
  `  vocab ${summary.vocabSize} (${summary.mergeCount} merges); d_model ${DEMO_LAYERS.dModel}, ` +
    `${DEMO_LAYERS.encoderLayers} encoder + ${DEMO_LAYERS.decoderLayers} decoder layers, ` +
    `${DEMO_LAYERS.heads} heads, FFN ${DEMO_LAYERS.ffnDim}`,
);
console.log(`  answers YES=${summary.answers.YES} NO=${summary.answers.NO} MAYBE=${summary.answers.MAYBE}`);

// Load the written tokenizer back, as the app will, and show a prompt's ids.
const readJson = async (name: string): Promise<object> => JSON.parse(await readFile(join(summary.outDir, name), 'utf8')) as object;
const tokenizer = new Tokenizer(await readJson('tokenizer.json'), await readJson('tokenizer_config.json'));
const sample = ' does the image describe " two dogs play in the snow "?';
const encoded = tokenizer.encode(sample);
console.log(`  ${JSON.stringify(sample)} -> ${JSON.stringify(encoded.ids)}`);
console.log(`    ${encoded.tokens.join(' ')}`);
