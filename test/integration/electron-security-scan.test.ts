/**
 * Electron security scan: @doyensec/electronegativity over the built app (what electron-builder
 * packs into app.asar: out/** and package.json). Needs `npm run build` first (npm test runs it).
 *
 * Every HIGH or MEDIUM finding fails the test unless test/support/electronegativity-reviewed.json
 * lists it (check id + file, never a line number: lines move) with a one-line justification from a
 * review of the code. LOW and INFORMATIONAL findings, and allow-list entries that no longer match
 * anything, are reported with t.diagnostic.
 *
 * The scan runs in a child process with a time limit and with no network: electronegativity fetches
 * translations and Electron's release list with `got`, which the child replaces with a stub that
 * fails at once. AVAILABLE_SECURITY_FIXES_GLOBAL_CHECK is excluded: it compares the Electron version
 * against a release list cached in the OS temp dir by earlier online runs, so its answer depends on
 * the machine and the date rather than on this code (keep Electron patched through dependency
 * updates instead).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cp, mkdtemp, readdir, readFile, rename, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT } from '../support/shared-reference.ts';

const OUT_DIR = path.join(REPO_ROOT, 'out');
const REQUIRED_OUTPUTS = ['out/main/index.js', 'out/preload/index.cjs', 'out/renderer/index.html'];
const REVIEWED_FILE = path.join(REPO_ROOT, 'test', 'support', 'electronegativity-reviewed.json');
const SCAN_TIMEOUT_MS = 120_000;
const EXCLUDED_CHECKS = ['AvailableSecurityFixesGlobalCheck'];
/** electronegativity only reads .js/.jsx/.ts/.tsx/.html/.htm (and package.json): these get ".js" appended in the staged copy. */
const UNSCANNED_JS_EXTENSIONS = ['.cjs', '.mjs'];

interface Finding {
  id: string;
  file: string;
  line: number;
  column: number;
  severity: string;
  confidence: string;
  description: string;
  sample: string;
  manualReview: boolean;
}

interface ParseError {
  file: string;
  message: string;
  tolerable: boolean;
}

interface ScanResult {
  findings: Finding[];
  errors: ParseError[];
  globalChecks: number;
  atomicChecks: number;
}

interface ReviewedEntry {
  check: string;
  file: string;
  justification: string;
  /** How many findings of this check in this file were reviewed; more than that fails (a new one needs a review). */
  occurrences?: number;
}

/**
 * Runs in the child (CommonJS, `node -e`): replaces `got` with an offline stub, runs
 * electronegativity's programmatic API (its README calls the version option `electronVersion`, but
 * dist/runner.js reads `electronVersionOverride`) and writes the findings as JSON.
 */
const CHILD_SCRIPT = String.raw`
const Module = require('node:module');
const fs = require('node:fs');
const request = JSON.parse(process.env.ENG_SCAN_REQUEST);
const offline = () => Promise.reject(new Error('network disabled by the security scan test'));
offline.head = offline;
offline.get = offline;
const originalLoad = Module._load;
Module._load = function (name, ...rest) {
  if (name === 'got') return offline;
  return originalLoad.call(this, name, ...rest);
};
const run = require(request.runner);
run({
  input: request.input,
  isRelative: true,
  excludeFromScan: request.exclude,
  electronVersionOverride: request.electronVersion,
}).then((result) => {
  const findings = result.issues.map((issue) => ({
    id: issue.id,
    file: issue.file,
    line: issue.location ? issue.location.line : 0,
    column: issue.location ? issue.location.column : 0,
    severity: issue.severity.name,
    confidence: issue.confidence.name,
    description: typeof issue.description === 'string' ? issue.description : JSON.stringify(issue.description),
    sample: issue.sample === undefined ? '' : String(issue.sample),
    manualReview: Boolean(issue.manualReview),
  }));
  fs.writeFileSync(request.output, JSON.stringify({ findings, errors: result.errors, globalChecks: result.globalChecks, atomicChecks: result.atomicChecks }));
}).catch((err) => {
  console.error(err && err.stack ? err.stack : String(err));
  process.exit(1);
});
`;

/** Vite's content hashes (index-C0yMOk17.js) change with every edit; allow-list entries name the file without one. */
function normalizeFile(file: string): string {
  const posix = file.split(path.sep).join('/');
  let original = posix;
  for (const ext of UNSCANNED_JS_EXTENSIONS) {
    if (posix.endsWith(`${ext}.js`)) original = posix.slice(0, -'.js'.length);
  }
  if (/^out\/(main\/chunks|renderer\/assets)\//.test(original)) {
    return original.replace(/-[A-Za-z0-9_-]{8}(\.[a-z]+)$/, '-[hash]$1');
  }
  return original;
}

function electronVersion(): string {
  const installed = path.join(REPO_ROOT, 'node_modules', 'electron', 'package.json');
  if (existsSync(installed)) return (JSON.parse(readFileSync(installed, 'utf8')) as { version: string }).version;
  const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { devDependencies?: Record<string, string> };
  const declared = pkg.devDependencies?.electron?.replace(/^[^\d]*/, '');
  assert.ok(declared, 'no electron version: neither node_modules/electron nor package.json devDependencies.electron');
  return declared;
}

/** Copies what goes into app.asar (out/**, package.json) to a temp dir, renaming .cjs/.mjs so they are scanned. */
async function stageApp(into: string): Promise<void> {
  await cp(OUT_DIR, path.join(into, 'out'), {
    recursive: true,
    filter: (source) => !source.endsWith('.map'),
  });
  await cp(path.join(REPO_ROOT, 'package.json'), path.join(into, 'package.json'));
  for (const entry of await readdir(path.join(into, 'out'), { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !UNSCANNED_JS_EXTENSIONS.includes(path.extname(entry.name))) continue;
    const file = path.join(entry.parentPath, entry.name);
    await rename(file, `${file}.js`);
  }
}

function scan(input: string, output: string): Promise<{ stdout: string; stderr: string }> {
  const runner = createRequire(path.join(REPO_ROOT, 'package.json')).resolve('@doyensec/electronegativity');
  const request = { runner, input, output, exclude: EXCLUDED_CHECKS, electronVersion: electronVersion() };
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['-e', CHILD_SCRIPT],
      {
        cwd: input,
        timeout: SCAN_TIMEOUT_MS,
        killSignal: 'SIGKILL',
        maxBuffer: 16 * 1024 * 1024,
        // LANG picks electronegativity's bundled en-US messages; FORCE_COLOR=0 keeps chalk quiet.
        env: { ...process.env, ENG_SCAN_REQUEST: JSON.stringify(request), LANG: 'en-US', FORCE_COLOR: '0', NODE_OPTIONS: '' },
      },
      (error, stdout, stderr) => {
        if (error) {
          const why = error.killed ? `killed after ${SCAN_TIMEOUT_MS} ms` : error.message;
          reject(new Error(`electronegativity did not finish (${why})\n${stdout}${stderr}`));
        } else resolve({ stdout, stderr });
      },
    );
  });
}

function loadReviewed(): ReviewedEntry[] {
  const parsed = JSON.parse(readFileSync(REVIEWED_FILE, 'utf8')) as { reviewed?: unknown };
  assert.ok(Array.isArray(parsed.reviewed), `${path.relative(REPO_ROOT, REVIEWED_FILE)}: "reviewed" must be an array`);
  return parsed.reviewed.map((raw, i) => {
    const entry = raw as Partial<Record<keyof ReviewedEntry, unknown>>;
    const where = `${path.relative(REPO_ROOT, REVIEWED_FILE)} entry ${i}`;
    assert.ok(
      typeof entry.check === 'string' && /^[A-Z0-9_]+_CHECK$/.test(entry.check),
      `${where}: "check" must be an electronegativity check id such as PRELOAD_JS_CHECK`,
    );
    assert.ok(
      typeof entry.file === 'string' && entry.file.length > 0 && !/:\d+/.test(entry.file),
      `${where}: "file" must be a path relative to the app root, without a line number`,
    );
    assert.ok(
      typeof entry.justification === 'string' && entry.justification.trim().length >= 20 && !entry.justification.includes('\n'),
      `${where}: "justification" must be one line saying why the finding is not a problem in this app`,
    );
    assert.ok(
      entry.occurrences === undefined ||
        (typeof entry.occurrences === 'number' && Number.isInteger(entry.occurrences) && entry.occurrences > 0),
      `${where}: "occurrences", when given, must be a positive integer`,
    );
    return {
      check: entry.check,
      file: entry.file,
      justification: entry.justification,
      ...(entry.occurrences === undefined ? {} : { occurrences: entry.occurrences as number }),
    };
  });
}

const describeLine = (f: Finding) =>
  `${f.severity} ${f.id} ${f.file}:${f.line}:${f.column} (${f.confidence}${f.manualReview ? ', review required' : ''}) ${f.description}${f.sample ? ` | ${f.sample.trim().slice(0, 160)}` : ''}`;

describe('electronegativity scan of the built app (out/)', () => {
  let work = '';
  let result: ScanResult | undefined;

  before(async () => {
    const missing = REQUIRED_OUTPUTS.filter((file) => !existsSync(path.join(REPO_ROOT, file)));
    assert.deepEqual(missing, [], `the Electron build is missing (${missing.join(', ')}): run \`npm run build\` before this test`);
    work = await mkdtemp(path.join(os.tmpdir(), 'ofa-ve-eng-'));
    const app = path.join(work, 'app');
    await stageApp(app);
    const output = path.join(work, 'findings.json');
    await scan(app, output);
    const raw = JSON.parse(await readFile(output, 'utf8')) as ScanResult;
    result = {
      ...raw,
      findings: raw.findings.map((f) => ({ ...f, file: normalizeFile(f.file) })),
      errors: raw.errors.map((e) => ({ ...e, file: normalizeFile(path.relative(app, path.resolve(app, e.file))) })),
    };
  });

  after(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('parses every built file (a file it cannot parse is a file it did not check)', (t) => {
    assert.ok(result);
    assert.ok(result.atomicChecks > 0 && result.globalChecks > 0, 'no checks were loaded');
    for (const e of result.errors.filter((e) => e.tolerable)) t.diagnostic(`tolerable parse warning in ${e.file}: ${e.message}`);
    const fatal = result.errors.filter((e) => !e.tolerable).map((e) => `${e.file}: ${e.message}`);
    assert.deepEqual(fatal, [], `electronegativity could not parse:\n${fatal.join('\n')}`);
  });

  it('has no HIGH or MEDIUM finding that is not in the reviewed allow-list', (t) => {
    assert.ok(result);
    const reviewed = loadReviewed();
    const serious = result.findings.filter((f) => f.severity === 'HIGH' || f.severity === 'MEDIUM');
    for (const f of result.findings.filter((f) => f.severity !== 'HIGH' && f.severity !== 'MEDIUM')) t.diagnostic(describeLine(f));

    const unreviewed: string[] = [];
    const groups = new Map<string, Finding[]>();
    for (const f of serious) groups.set(`${f.id} ${f.file}`, [...(groups.get(`${f.id} ${f.file}`) ?? []), f]);
    for (const [key, findings] of groups) {
      const entry = reviewed.find((r) => `${r.check} ${r.file}` === key);
      if (!entry) {
        unreviewed.push(...findings.map(describeLine));
      } else if (entry.occurrences !== undefined && findings.length > entry.occurrences) {
        unreviewed.push(
          `${key}: ${findings.length} findings, ${entry.occurrences} reviewed (review the new one, then raise "occurrences"):`,
          ...findings.map((f) => `  ${describeLine(f)}`),
        );
      } else {
        for (const f of findings) t.diagnostic(`reviewed: ${describeLine(f)}`);
        if (entry.occurrences !== undefined && findings.length < entry.occurrences) {
          t.diagnostic(`${key}: ${findings.length} findings, ${entry.occurrences} reviewed: lower "occurrences"`);
        }
      }
    }
    for (const r of reviewed.filter((r) => !groups.has(`${r.check} ${r.file}`))) {
      t.diagnostic(`allow-list entry no longer matches a finding (remove it): ${r.check} ${r.file}`);
    }
    assert.deepEqual(
      unreviewed,
      [],
      `fix these, or after review add {check, file, justification, occurrences} to ${path.relative(REPO_ROOT, REVIEWED_FILE)}:\n${unreviewed.join('\n')}`,
    );
  });
});
