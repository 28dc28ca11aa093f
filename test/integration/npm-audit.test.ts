/**
 * npm audit of what ships: `npm audit --omit=dev --json` over package-lock.json. Any high or
 * critical advisory on a production dependency fails the test unless test/support/audit-reviewed.json
 * lists it (GHSA id + package) with a one-line reason it cannot be exploited here. Moderate and low
 * advisories, reviewed entries that still match, and entries that match nothing any more are
 * reported with t.diagnostic.
 *
 * The audit asks the registry's audit service: when that cannot be reached (offline, a mirror
 * without the audit endpoint, an HTTP error) the audit test is skipped and says why; a missing
 * lockfile or any other npm failure fails it. The gate itself is checked on fixed reports either
 * way, so it is proven even where the audit cannot run.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import path from 'node:path';
import { describe, it } from 'node:test';
import { advisories, auditError, gate, reviewedFileProblems, type AuditReport, type ReviewedFile } from '../support/npm-audit-gate.ts';
import { REPO_ROOT } from '../support/shared-reference.ts';

const REVIEWED_PATH = path.join(REPO_ROOT, 'test', 'support', 'audit-reviewed.json');
const AUDIT_TIMEOUT_MS = 90_000;

function runAudit(extraArgs: string[] = []): Promise<{ stdout: string; stderr: string; timedOut: boolean; spawnError?: string }> {
  return new Promise((resolve) => {
    execFile(
      process.platform === 'win32' ? 'npm.cmd' : 'npm',
      ['audit', '--omit=dev', '--json', '--fetch-retries=1', ...extraArgs],
      {
        cwd: REPO_ROOT,
        timeout: AUDIT_TIMEOUT_MS,
        maxBuffer: 64 * 1024 * 1024,
        env: { ...process.env, npm_config_audit_level: 'info', NO_UPDATE_NOTIFIER: '1' },
      },
      (err, stdout, stderr) => {
        // npm audit exits 1 when it finds anything: the JSON on stdout is what counts.
        const e = err as (NodeJS.ErrnoException & { killed?: boolean }) | null;
        resolve({ stdout, stderr, timedOut: Boolean(e?.killed), spawnError: e && e.code === 'ENOENT' ? 'npm is not on PATH' : undefined });
      },
    );
  });
}

const describeAdvisory = (a: { id: string; package: string; severity: string; title: string; range: string }) =>
  `${a.severity} ${a.id} in ${a.package} ${a.range}: ${a.title}`;

describe('npm audit of the production dependencies', () => {
  const reviewedFile = JSON.parse(readFileSync(REVIEWED_PATH, 'utf8')) as ReviewedFile;

  it('audit-reviewed.json is well formed: each entry names an advisory and a package, with a one-line reason', () => {
    assert.deepEqual(reviewedFileProblems(reviewedFile), []);
  });

  it('has no high or critical advisory that is not reviewed', { timeout: AUDIT_TIMEOUT_MS + 30_000 }, async (t) => {
    const { stdout, stderr, timedOut, spawnError } = await runAudit();
    if (spawnError) return t.skip(spawnError);
    if (timedOut) return t.skip(`npm audit did not finish in ${AUDIT_TIMEOUT_MS / 1000} s (audit service unreachable?)`);
    let report: AuditReport;
    try {
      report = JSON.parse(stdout) as AuditReport;
    } catch {
      assert.fail(`npm audit did not print JSON:\n${stdout.slice(0, 500)}\n${stderr.slice(-1000)}`);
    }
    const error = auditError(report);
    if (error?.kind === 'unreachable') return t.skip(`the npm audit service could not be asked: ${error.reason}`);
    assert.equal(error, undefined, `npm audit failed: ${error?.reason}`);

    const { blocking, accepted, stale } = gate(report, reviewedFile.reviewed);
    const others = advisories(report).filter((a) => a.severity !== 'high' && a.severity !== 'critical');
    t.diagnostic(`advisories by severity: ${JSON.stringify(report.metadata?.vulnerabilities ?? {})}`);
    for (const a of others) t.diagnostic(`not blocking (${a.severity}): ${describeAdvisory(a)}`);
    for (const a of accepted) t.diagnostic(`reviewed, not exploitable here: ${describeAdvisory(a)}`);
    for (const r of stale) t.diagnostic(`audit-reviewed.json entry matches nothing any more (remove it): ${r.advisory} ${r.package}`);
    assert.deepEqual(
      blocking.map(describeAdvisory),
      [],
      'high/critical advisories: upgrade the dependency, or review and list the advisory in test/support/audit-reviewed.json with why it is not exploitable here',
    );
  });
});

describe('the audit gate, on fixed reports', () => {
  const report: AuditReport = {
    auditReportVersion: 2,
    vulnerabilities: {
      lodash: {
        name: 'lodash',
        severity: 'critical',
        via: [
          {
            source: 1,
            name: 'lodash',
            title: 'Prototype Pollution',
            url: 'https://github.com/advisories/GHSA-aaaa-bbbb-cccc',
            severity: 'critical',
            range: '<4.17.21',
          },
        ],
      },
      uses_lodash: { name: 'uses_lodash', severity: 'critical', via: ['lodash'] },
      busboy: {
        name: 'busboy',
        severity: 'high',
        via: [
          {
            source: 2,
            name: 'busboy',
            title: 'ReDoS',
            url: 'https://github.com/advisories/GHSA-dddd-eeee-ffff',
            severity: 'high',
            range: '<2',
          },
        ],
      },
      esbuild: {
        name: 'esbuild',
        severity: 'moderate',
        via: [
          {
            source: 3,
            name: 'esbuild',
            title: 'dev server CORS',
            url: 'https://github.com/advisories/GHSA-gggg-hhhh-iiii',
            severity: 'moderate',
            range: '<=0.24.2',
          },
        ],
      },
    },
    metadata: { vulnerabilities: { critical: 2, high: 1, moderate: 1 } },
  };

  it('blocks unreviewed high and critical advisories, once each, on the package they are about', () => {
    const { blocking } = gate(report, []);
    assert.deepEqual(blocking.map((a) => `${a.id} ${a.package} ${a.severity}`).sort(), [
      'GHSA-aaaa-bbbb-cccc lodash critical',
      'GHSA-dddd-eeee-ffff busboy high',
    ]);
  });

  it('lets a reviewed advisory through (same id and package only), and reports stale entries', () => {
    const reviewed = [
      { advisory: 'GHSA-dddd-eeee-ffff', package: 'busboy', reason: 'only reached with a header the server never passes to it' },
      { advisory: 'GHSA-aaaa-bbbb-cccc', package: 'not-lodash', reason: 'a review of another package does not cover lodash' },
      { advisory: 'GHSA-zzzz-zzzz-zzzz', package: 'gone', reason: 'an advisory that was fixed long ago and is no longer reported' },
    ];
    const { blocking, accepted, stale } = gate(report, reviewed);
    assert.deepEqual(
      blocking.map((a) => a.package),
      ['lodash'],
    );
    assert.deepEqual(
      accepted.map((a) => a.package),
      ['busboy'],
    );
    assert.deepEqual(stale.map((r) => r.package).sort(), ['gone', 'not-lodash']);
  });

  it('tells an unreachable audit service (skip) from a failed audit (fail)', () => {
    assert.equal(auditError(report), undefined);
    assert.equal(
      auditError({ message: '405 Method Not Allowed - POST https://registry.npmjs.org/-/npm/v1/security/advisories/bulk', statusCode: 405 })
        ?.kind,
      'unreachable',
    );
    assert.equal(
      auditError({
        message: 'request to http://127.0.0.1:9/-/npm/v1/security/advisories/bulk failed, reason: connect ECONNREFUSED 127.0.0.1:9',
        error: { summary: '', detail: '' },
      })?.kind,
      'unreachable',
    );
    assert.equal(auditError({ error: { code: 'ENOTFOUND', summary: 'getaddrinfo ENOTFOUND registry.npmjs.org' } })?.kind, 'unreachable');
    assert.equal(auditError({ error: { code: 'ENOLOCK', summary: 'This command requires an existing lockfile.' } })?.kind, 'failed');
    assert.equal(auditError({})?.kind, 'failed');
  });

  it('rejects reviewed entries without a real reason', () => {
    assert.deepEqual(
      reviewedFileProblems({ reviewed: [{ advisory: 'GHSA-aaaa-bbbb-cccc', package: 'lodash', reason: 'fine' }] }).length,
      1,
    );
    assert.deepEqual(
      reviewedFileProblems({
        reviewed: [{ advisory: 'CVE-2020-1', package: 'lodash', reason: 'not reachable: we never call the vulnerable merge function' }],
      }).length,
      1,
    );
  });

  it(
    'on the report npm itself makes (a local stand-in for the audit service): blocks a production advisory, ignores a dev-only one',
    { timeout: AUDIT_TIMEOUT_MS + 30_000 },
    async (t) => {
      const asked: string[] = [];
      const standIn = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          if (!req.url?.endsWith('/-/npm/v1/security/advisories/bulk')) {
            res.writeHead(404, { 'content-type': 'application/json' }).end('{}');
            return;
          }
          const raw = Buffer.concat(chunks);
          asked.push(
            ...Object.keys(JSON.parse((req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8')) as object),
          );
          const advisory = (id: string, severity: string) => [
            {
              id: 1,
              url: `https://github.com/advisories/${id}`,
              title: 'stand-in advisory',
              severity,
              vulnerable_versions: '>=0.0.0',
              cwe: [],
              cvss: { score: 9, vectorString: null },
            },
          ];
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ busboy: advisory('GHSA-aaaa-bbbb-cccc', 'high'), eslint: advisory('GHSA-dddd-eeee-ffff', 'critical') }));
        });
      });
      await new Promise<void>((resolve) => standIn.listen(0, '127.0.0.1', resolve));
      try {
        const { port } = standIn.address() as AddressInfo;
        const { stdout, spawnError } = await runAudit([`--registry=http://127.0.0.1:${port}/`]);
        if (spawnError) return t.skip(spawnError);
        const npmReport = JSON.parse(stdout) as AuditReport;
        assert.equal(auditError(npmReport), undefined, stdout.slice(0, 500));
        assert.ok(asked.includes('busboy'), 'npm asked about the production dependencies');
        assert.deepEqual(
          gate(npmReport, []).blocking.map((a) => `${a.id} ${a.package} ${a.severity}`),
          ['GHSA-aaaa-bbbb-cccc busboy high'],
          'eslint is a dev dependency: --omit=dev leaves it out',
        );
        assert.deepEqual(
          gate(npmReport, [{ advisory: 'GHSA-aaaa-bbbb-cccc', package: 'busboy', reason: 'a stand-in review for this test only' }])
            .blocking,
          [],
        );
      } finally {
        standIn.close();
      }
    },
  );
});
