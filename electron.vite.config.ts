import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';

/**
 * main/, preload/ and renderer/ are top-level folders (DESIGN.md). Runtime dependencies stay
 * external (electron-vite's externalizeDeps), so the native modules onnxruntime-node and sharp
 * load from node_modules (unpacked from asar by electron-builder).
 */
export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      // The inference worker is its own entry: worker_threads loads it by file name at run time.
      rollupOptions: {
        input: {
          index: resolve(__dirname, 'main/electron/electron-main.ts'),
          'inference-worker': resolve(__dirname, 'main/service/inference-worker.ts'),
        },
      },
    },
  },
  preload: {
    build: {
      outDir: 'out/preload',
      // A sandboxed preload must be a single CommonJS file.
      rollupOptions: {
        input: { index: resolve(__dirname, 'preload/index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve(__dirname, 'renderer'),
    build: {
      outDir: 'out/renderer',
      rollupOptions: { input: { index: resolve(__dirname, 'renderer/index.html') } },
    },
  },
});
