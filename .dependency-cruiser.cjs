/**
 * The dependency direction of the project, checked by `npm run deps` and by
 * test/unit/dependency-rules.test.ts (which also proves each rule catches a breach).
 *
 *   renderer/ ──▶ preload/ contract (wire types, api-contract, pair list, caption warnings, service URL)
 *   main/     ──▶ preload/ contract, models/tools/ (seeded random)
 *   preload/index.ts: the contextBridge, importing only the contract (electron/fiddle's preload)
 *   bench/, test/ ──▶ anything above; nothing imports them back, but test/ may use bench/support/
 *   bench/ never imports test/ (what both need, such as starting `ofa-ve serve`, lives in bench/support/)
 *
 * Paths are relative to the folder cruised from (the repository root).
 */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import cycle: split the shared part into its own module, or pass it in (dependency inversion).',
      from: {},
      to: { circular: true },
    },
    {
      name: 'main-not-to-renderer',
      severity: 'error',
      comment: 'main/ never imports the React app; shared types live in the preload/ contract.',
      from: { path: '^main/' },
      to: { path: '^renderer/' },
    },
    {
      name: 'renderer-not-to-main',
      severity: 'error',
      comment: 'The renderer runs in a sandboxed page (or a browser): it talks to main over IPC or HTTP, through the preload/ contract.',
      from: { path: '^renderer/' },
      to: { path: '^main/' },
    },
    {
      name: 'renderer-not-to-preload-bridge',
      severity: 'error',
      comment: 'preload/index.ts is the contextBridge (it runs in the preload world): the renderer uses window.ofaVe and the contract.',
      from: { path: '^renderer/' },
      to: { path: '^preload/index\\.ts$' },
    },
    {
      name: 'preload-not-to-renderer-or-main',
      severity: 'error',
      comment: 'preload/ is the bridge and the contract: it depends on neither side (logic such as the batch loop lives in renderer/api/).',
      from: { path: '^preload/' },
      to: { path: '^(renderer|main)/' },
    },
    {
      name: 'models-tools-not-to-renderer',
      severity: 'error',
      comment: 'models/tools/ (the demo model generator, the OFA exporter) runs under Node and never needs the React app.',
      from: { path: '^models/tools/' },
      to: { path: '^renderer/' },
    },
    {
      name: 'nothing-to-bench-or-test',
      severity: 'error',
      comment:
        'bench/ and test/ use the product; the product never uses them (what `ofa-ve bench` needs lives under main/cli/bench/; bench/ holds scripts that use main/).',
      from: { path: '^(main|preload|renderer|models/tools|build)/' },
      to: { path: '^(bench|test)/' },
    },
    {
      name: 'bench-not-to-test',
      severity: 'error',
      comment: 'bench/ uses the product, not the tests: what both need (e.g. starting ofa-ve serve) lives in bench/support/ or main/.',
      from: { path: '^bench/' },
      to: { path: '^test/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|out|dist|\\.tmp|test-results)/' },
    // Type-only imports count: a type is a dependency of the design even when the compiler erases it.
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { extensions: ['.ts', '.tsx', '.js', '.mjs', '.cjs', '.d.ts'] },
  },
};
