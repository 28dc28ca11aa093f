/**
 * deploy/: the Prometheus configs (one instance, with a token, a file_sd fleet and Kubernetes pod
 * discovery, the last two with remote_write to a long-term store), rules and rule unit tests are
 * checked with promtool, the example Alertmanager config with amtool, and the Grafana dashboards
 * (one instance, the fleet) are parsed and their PromQL checked against the metric names the app's
 * own registry exports (DESIGN.md, Interfaces → Metrics) and the recording rules.
 * Client mistakes (4xx) never page: no alert counts them and only critical/page alerts reach the
 * pager. promtool and amtool come from Debian's `prometheus` and `prometheus-alertmanager`
 * packages; without them those checks are skipped.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { accessSync, constants, readFileSync, readdirSync } from 'node:fs';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { createRequire } from 'node:module';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { ServiceMetrics } from '../../main/telemetry/service-metrics.ts';
import { REPO_ROOT } from '../support/shared-reference.ts';

/** js-yaml (a devDependency; it ships no type declarations), for the parts of deploy/ that are YAML. */
const yaml = createRequire(import.meta.url)('js-yaml') as {
  load(text: string): unknown;
  loadAll(text: string): unknown[];
  dump(value: unknown): string;
};

const DEPLOY = path.join(REPO_ROOT, 'deploy');
const RULES_DIR = path.join(DEPLOY, 'rules');
const RULE_TESTS_DIR = path.join(RULES_DIR, 'tests');
const DASHBOARD = path.join(DEPLOY, 'grafana', 'ofa-ve-dashboard.json');
const FLEET_DASHBOARD = path.join(DEPLOY, 'grafana', 'ofa-ve-fleet-dashboard.json');
const RULE_FILE_NAMES = ['ofa-ve-alerts.rules.yml', 'ofa-ve-fleet.rules.yml', 'ofa-ve-recording.rules.yml'];
/** Every Prometheus config deploy/ ships, relative to deploy/. */
const PROMETHEUS_CONFIGS = [
  'prometheus.yml',
  'prometheus-with-token.yml',
  'prometheus-fleet.yml',
  'kubernetes/prometheus-kubernetes-sd.yml',
];

const PROMTOOL_SKIP = 'promtool not installed (apt-get install prometheus): skipped';
const AMTOOL_SKIP = 'amtool not installed (apt-get install prometheus-alertmanager): skipped';

/** Severities that reach the pager (alertmanager.yml); every other severity opens a ticket. */
const PAGING_SEVERITIES = new Set(['critical', 'page']);
/** The only status_code matchers an alert (or a ratio an alert reads) may use: 5xx bad, 4xx left out. */
const SERVER_SIDE_MATCHERS = new Set(['status_code=~"5.."', 'status_code!~"4.."']);

function findOnPath(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

interface ToolRun {
  code: number;
  output: string;
}

/** Runs a tool to completion and never throws: the exit code and stdout+stderr come back. */
function runTool(file: string, args: string[], cwd: string = REPO_ROOT): Promise<ToolRun> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { cwd, maxBuffer: 32 * 1024 * 1024, timeout: 300_000 }, (error, stdout, stderr) => {
      const output = `${stdout}${stderr}`;
      if (!error) return resolve({ code: 0, output });
      const code = (error as NodeJS.ErrnoException & { code?: unknown }).code;
      if (typeof code === 'number') return resolve({ code, output });
      reject(new Error(`${path.basename(file)} ${args.join(' ')} did not run: ${error.message}\n${output}`));
    });
  });
}

/** Runs the tool, prints its output, and fails unless it exits 0. */
async function expectSuccess(file: string, args: string[], cwd?: string): Promise<string> {
  const shown = args.map((a) => (a.startsWith(REPO_ROOT + path.sep) ? path.relative(REPO_ROOT, a) : a));
  const label = `$ ${path.basename(file)} ${shown.join(' ')}`;
  const { code, output } = await runTool(file, args, cwd);
  console.log(`${label}\n${output.trimEnd()}\n`);
  assert.equal(code, 0, `${label} exited ${code}:\n${output}`);
  return output;
}

function listFiles(dir: string, suffix: string): string[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith(suffix))
    .sort()
    .map((name) => path.join(dir, name));
}

const promtool = findOnPath('promtool');
const amtool = findOnPath('amtool');

describe('deploy/: Prometheus configs', () => {
  it('promtool check config deploy/prometheus.yml (rule files included)', async (t: TestContext) => {
    if (!promtool) return t.skip(PROMTOOL_SKIP);
    const out = await expectSuccess(promtool, ['check', 'config', path.join(DEPLOY, 'prometheus.yml')]);
    assert.match(out, /SUCCESS: 3 rule files found/);
  });

  describe('token variant', () => {
    let dir: string;
    before(async () => {
      // credentials_file must exist for `check config`: check a copy next to a throw-away token.
      dir = await mkdtemp(path.join(os.tmpdir(), 'ofa-ve-deploy-'));
      await cp(path.join(DEPLOY, 'prometheus-with-token.yml'), path.join(dir, 'prometheus-with-token.yml'));
      await cp(RULES_DIR, path.join(dir, 'rules'), { recursive: true });
      await writeFile(path.join(dir, 'ofa-ve.token'), 'example-token-for-promtool', { mode: 0o600 });
    });
    after(async () => rm(dir, { recursive: true, force: true }));

    it('promtool check config deploy/prometheus-with-token.yml (with a temporary token file)', async (t: TestContext) => {
      if (!promtool) return t.skip(PROMTOOL_SKIP);
      const out = await expectSuccess(promtool, ['check', 'config', path.join(dir, 'prometheus-with-token.yml')]);
      assert.match(out, /SUCCESS: 3 rule files found/);
    });
  });

  describe('fleet and Kubernetes variants, with remote_write to a long-term store', () => {
    let dir: string;
    before(async () => {
      // The deploy/ tree beside a throw-away token: the configs' relative paths (rules, token) resolve as deployed.
      dir = await mkdtemp(path.join(os.tmpdir(), 'ofa-ve-deploy-fleet-'));
      await cp(DEPLOY, dir, { recursive: true, filter: (source) => !source.endsWith('.token') });
      await writeFile(path.join(dir, 'ofa-ve.token'), 'example-token-for-promtool', { mode: 0o600 });
    });
    after(async () => rm(dir, { recursive: true, force: true }));

    it('promtool check config deploy/prometheus-fleet.yml (file_sd, the three rule files, remote_write to Thanos Receive)', async (t: TestContext) => {
      const config = yaml.load(readFileSync(path.join(DEPLOY, 'prometheus-fleet.yml'), 'utf8')) as PrometheusConfig;
      assert.deepEqual(config.rule_files.map((f) => path.basename(f)).sort(), RULE_FILE_NAMES);
      assert.match(config.remote_write?.[0]?.url ?? '', /:19291\/api\/v1\/receive$/, "Thanos Receive's remote-write endpoint");
      assert.ok(
        config.global.external_labels?.replica && config.global.external_labels.cluster,
        'external labels name this Prometheus in the store',
      );
      assert.ok(config.scrape_configs[0]?.file_sd_configs, 'file-based service discovery');
      if (!promtool) return t.skip(PROMTOOL_SKIP);
      const out = await expectSuccess(promtool, ['check', 'config', path.join(dir, 'prometheus-fleet.yml')]);
      assert.match(out, /SUCCESS: 3 rule files found/);
    });

    it("the README's Mimir remote_write passes promtool check config in the fleet config", async (t: TestContext) => {
      const readme = readFileSync(path.join(DEPLOY, 'README.md'), 'utf8');
      const snippet = /#### Remote write to Mimir[\s\S]*?```yaml\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
      assert.ok(snippet.startsWith('remote_write:'), 'README has a remote_write block for Mimir');
      assert.match(snippet, /\/api\/v1\/push/);
      assert.match(snippet, /X-Scope-OrgID/);
      if (!promtool) return t.skip(PROMTOOL_SKIP);
      const fleet = readFileSync(path.join(DEPLOY, 'prometheus-fleet.yml'), 'utf8');
      const at = fleet.indexOf('\nremote_write:\n');
      assert.ok(at > 0, 'remote_write is the last section of prometheus-fleet.yml');
      await writeFile(path.join(dir, 'prometheus-mimir.yml'), `${fleet.slice(0, at + 1)}${snippet}`);
      const out = await expectSuccess(promtool, ['check', 'config', path.join(dir, 'prometheus-mimir.yml')]);
      assert.match(out, /SUCCESS: 3 rule files found/);
    });

    it('promtool check config deploy/kubernetes/prometheus-kubernetes-sd.yml (kubernetes_sd, remote_write)', async (t: TestContext) => {
      const file = path.join(dir, 'kubernetes', 'prometheus-kubernetes-sd.yml');
      const config = yaml.load(readFileSync(file, 'utf8')) as PrometheusConfig;
      const job = config.scrape_configs[0]!;
      assert.equal(job.job_name, 'ofa-ve');
      assert.deepEqual(config.rule_files.map((f) => path.basename(f)).sort(), RULE_FILE_NAMES);
      assert.match(config.remote_write?.[0]?.url ?? '', /\/api\/v1\/receive$/);
      const sd = job.kubernetes_sd_configs?.[0];
      assert.equal(sd?.role, 'pod');
      // the same job and instance labels as the PodMonitor (jobLabel app.kubernetes.io/instance, instance = pod name)
      const relabel = (target: string) => job.relabel_configs?.find((r) => r.target_label === target)?.source_labels;
      assert.deepEqual(relabel('job'), ['__meta_kubernetes_pod_label_app_kubernetes_io_instance']);
      assert.deepEqual(relabel('instance'), ['__meta_kubernetes_pod_name']);
      assert.equal(job.authorization?.type, 'Bearer');
      if (!promtool) return t.skip(PROMTOOL_SKIP);
      // The token file sits where the Secret is mounted in the cluster: here, the throw-away one.
      job.authorization!.credentials_file = path.join(dir, 'ofa-ve.token');
      await writeFile(file, yaml.dump(config));
      const { code, output } = await runTool(promtool, ['check', 'config', file]);
      if (code !== 0 && /field kubernetes_sd_configs not found/.test(output)) {
        // Debian's Prometheus is built without Kubernetes discovery: check the rest with the pods as static targets.
        t.diagnostic('this promtool has no kubernetes_sd (Debian builds it without): checking the rest of the config');
        delete job.kubernetes_sd_configs;
        job.static_configs = [{ targets: ['10.0.0.1:7860'] }];
      }
      await writeFile(file, yaml.dump(config));
      const out = await expectSuccess(promtool, ['check', 'config', file]);
      assert.match(out, /SUCCESS: 3 rule files found/);
    });
  });

  it('the token variant is prometheus.yml plus a Bearer credentials_file, nothing else', () => {
    const significant = (file: string): string[] =>
      readFileSync(path.join(DEPLOY, file), 'utf8')
        .split('\n')
        .map((line) => line.replace(/\s+#.*$/, '').trimEnd())
        .filter((line) => line.trim() !== '' && !line.trimStart().startsWith('#'));
    const plain = significant('prometheus.yml');
    const token = significant('prometheus-with-token.yml');
    const auth = ['    authorization:', '      type: Bearer', '      credentials_file: ofa-ve.token'];
    const at = token.indexOf(auth[0]!);
    assert.ok(at > 0, 'prometheus-with-token.yml has an authorization block');
    assert.deepEqual(token.slice(at, at + auth.length), auth);
    assert.deepEqual([...token.slice(0, at), ...token.slice(at + auth.length)], plain);
    for (const line of [
      '  - job_name: ofa-ve',
      '    scrape_interval: 15s',
      '    scrape_timeout: 5s',
      '      - targets: ["127.0.0.1:7860"]',
    ]) {
      assert.ok(plain.includes(line), `prometheus.yml has ${JSON.stringify(line.trim())}`);
    }
    assert.ok(plain.includes('        - targets: ["127.0.0.1:9093"]'), 'alerts go to Alertmanager on 127.0.0.1:9093');
  });

  it('every config that evaluates the alert rules sends them to an Alertmanager, and scrapes the job the up alerts watch', () => {
    const alerts = alertRules();
    const upJob = (name: string): string | undefined => /up\{job="([^"]+)"\}/.exec(alerts.find((a) => a.name === name)?.text ?? '')?.[1];
    assert.ok(upJob('OfaVeTargetDown'), 'OfaVeTargetDown watches up{job=...}');
    assert.equal(upJob('OfaVeTargetAbsent'), upJob('OfaVeTargetDown'));
    for (const file of PROMETHEUS_CONFIGS) {
      const config = yaml.load(readFileSync(path.join(DEPLOY, file), 'utf8')) as PrometheusConfig;
      assert.ok(
        config.rule_files.some((f) => path.basename(f) === 'ofa-ve-alerts.rules.yml'),
        `${file} loads the alerts`,
      );
      const targets = (config.alerting?.alertmanagers ?? []).flatMap((am) => (am.static_configs ?? []).flatMap((sc) => sc.targets));
      assert.ok(targets.length > 0, `${file}: alerting.alertmanagers names an Alertmanager`);
      for (const target of targets) assert.match(target, /:9093$/, `${file}: Alertmanager's port`);
      assert.deepEqual(
        config.scrape_configs.map((job) => job.job_name),
        [upJob('OfaVeTargetDown')],
        `${file}: the scrape job is the one OfaVeTargetDown / OfaVeTargetAbsent watch`,
      );
    }
  });
});

describe('deploy/rules', () => {
  const ruleFiles = listFiles(RULES_DIR, '.rules.yml');
  const ruleTests = listFiles(RULE_TESTS_DIR, '.test.yml');

  it('has the recording and alerting rule files and their tests', () => {
    assert.deepEqual(
      ruleFiles.map((f) => path.basename(f)),
      RULE_FILE_NAMES,
    );
    assert.ok(ruleTests.length >= 3, `rule tests in ${RULE_TESTS_DIR}`);
  });

  it('promtool check rules deploy/rules/*.rules.yml', async (t: TestContext) => {
    if (!promtool) return t.skip(PROMTOOL_SKIP);
    const out = await expectSuccess(promtool, ['check', 'rules', ...ruleFiles]);
    assert.doesNotMatch(out, /FAILED/);
  });

  it('promtool test rules deploy/rules/tests/*.test.yml', async (t: TestContext) => {
    if (!promtool) return t.skip(PROMTOOL_SKIP);
    // one promtool per file, in parallel: the 3-day windows make the SLO tests take a few seconds each
    const outputs = await Promise.all(ruleTests.map((file) => expectSuccess(promtool, ['test', 'rules', file], RULE_TESTS_DIR)));
    for (const [i, out] of outputs.entries()) {
      assert.match(out, /SUCCESS/, path.basename(ruleTests[i]!));
    }
    const count = (pattern: RegExp): number =>
      ruleTests.reduce((n, file) => n + (readFileSync(file, 'utf8').match(pattern) ?? []).length, 0);
    console.log(
      `promtool test rules: ${ruleTests.length} files, ${count(/^ {2}- name: /gm)} test groups, ` +
        `${count(/^\s*- eval_time:/gm)} alert_rule_test and ${count(/^\s*- expr:/gm)} promql_expr_test cases passed`,
    );
  });

  it('every alert has summary, description (with its value) and runbook annotations', () => {
    const alerts = alertRules();
    const readme = readFileSync(path.join(DEPLOY, 'README.md'), 'utf8');
    assert.ok(alerts.length >= 10, 'alert rules found');
    const names = new Set(alerts.map((a) => a.name));
    for (const name of ['OfaVeHighLatencyP95', 'OfaVeHighErrorRate', 'OfaVeAvailabilityErrorBudgetBurn', 'OfaVeLatencyErrorBudgetBurn']) {
      assert.ok(names.has(name), `alert ${name} is defined`);
    }
    for (const alert of alerts) {
      assert.match(alert.text, /^\s+summary: .+/m, `${alert.key}: summary`);
      assert.match(alert.text, /^\s+description: [\s\S]*\{\{ \$value/m, `${alert.key}: description shows the value`);
      assert.match(alert.text, /^\s+runbook: deploy\/README\.md#[a-z0-9]+$/m, `${alert.key}: runbook`);
      assert.match(alert.text, /^\s+severity: (critical|warning|page|ticket)$/m, `${alert.key}: severity`);
      const anchor = /runbook: deploy\/README\.md#([a-z0-9]+)/.exec(alert.text)?.[1];
      assert.ok(
        readme.split('\n').some((line) => line.startsWith('### ') && line.slice(4).toLowerCase() === anchor),
        `${alert.key}: README has ### ${anchor}`,
      );
    }
  });

  it("OfaVeTargetDown opens a ticket for every down instance and pages as well with at least half of the job's targets down", () => {
    const down = alertRules().filter((a) => a.name === 'OfaVeTargetDown');
    assert.deepEqual(down.map((a) => a.severity).sort(), ['critical', 'warning']);
    const exprOf = (a: AlertRule) => /^\s+expr: \|\n([\s\S]*?)\n\s+for: /m.exec(a.text)?.[1]?.replace(/\s+/g, ' ').trim() ?? '';
    const critical = exprOf(down.find((a) => a.severity === 'critical')!);
    const warning = exprOf(down.find((a) => a.severity === 'warning')!);
    const share = 'count by (job) (up{job="ofa-ve"} == 0) / count by (job) (up{job="ofa-ve"})';
    // tiered: the warning does not depend on the share (its `for` never restarts when the share
    // crosses 1/2); the critical is the warning's expression filtered to a share of at least 1/2
    assert.equal(warning, `(up{job="ofa-ve"} == 0) + on (job) group_left () (${share})`);
    assert.equal(critical, `${warning} >= 0.5`);
    for (const a of down) {
      assert.match(a.text, /^\s+for: 5m$/m, `${a.key}: for 5m`);
      assert.equal(a.family, 'ofa-ve-target', `${a.key}: family`);
      assert.match(a.text, /summary: .*\{\{ \$labels\.instance \}\}/, `${a.key}: names the instance`);
      assert.match(a.text, /count\(up\{job=%q\} == 0\)[\s\S]*count\(up\{job=%q\}\)/, `${a.key}: says how many of how many`);
    }
  });

  it('every alert rule is tested both firing and quiet', () => {
    const cases = ruleTests.flatMap((file) => alertTestCases(readFileSync(file, 'utf8')));
    for (const alert of alertRules()) {
      const forName = cases.filter((c) => c.alertname === alert.name);
      assert.ok(
        forName.some((c) => !c.fires),
        `${alert.key}: a test expects it quiet`,
      );
      const firing = forName.filter((c) => c.fires && (alert.distinguishedBy === undefined || c.body.includes(alert.distinguishedBy)));
      assert.ok(firing.length > 0, `${alert.key}: a test expects it firing`);
      assert.ok(
        firing.every((c) => /exp_annotations:/.test(c.body) && /exp_labels:/.test(c.body)),
        `${alert.key}: exp_labels and exp_annotations`,
      );
      // Alertmanager groups and inhibits by job (alertmanager.yml): an alert without it would group
      // and inhibit across every job
      assert.ok(
        firing.every((c) => /^\s+job: "[^"]+"$/m.test(c.body)),
        `${alert.key}: fires with a job label`,
      );
    }
  });

  it('no alert counts 4xx: status codes are matched as 5xx (bad) or not-4xx (valid) only', () => {
    const records = recordingRules();
    const availability = records.filter((r) => r.name.startsWith('job:ofa_ve_availability_errors:'));
    assert.equal(availability.length, 7, 'availability ratios for 5m, 30m, 1h, 2h, 6h, 1d, 3d');
    assert.ok(
      records.some((r) => r.name.startsWith('job:ofa_ve_client_errors:')),
      'a 4xx ratio for the dashboard',
    );
    for (const alert of alertRules()) {
      const rule = alert.text.replace(/^\s*#.*$/gm, ''); // the comments above the next rule are not this rule
      for (const matcher of statusCodeMatchers(rule)) assert.ok(SERVER_SIDE_MATCHERS.has(matcher), `${alert.key}: ${matcher}`);
      for (const name of rule.matchAll(/\bjob:[\w:]+/g)) {
        const record = records.find((r) => r.name === name[0]);
        assert.ok(record, `${alert.key} reads the recording rule ${name[0]}`);
        assert.doesNotMatch(record.name, /client_errors/, `${alert.key} reads the 4xx ratio`);
        for (const matcher of statusCodeMatchers(record.expr)) assert.ok(SERVER_SIDE_MATCHERS.has(matcher), `${record.name}: ${matcher}`);
      }
    }
  });
});

for (const file of [DASHBOARD, FLEET_DASHBOARD]) {
  describe(`deploy/grafana/${path.basename(file)}`, () => {
    const dashboard = JSON.parse(readFileSync(file, 'utf8')) as Dashboard;
    checkDashboard(dashboard);
  });
}

/** What every dashboard must be: importable, on the DS_PROMETHEUS data source, querying known metrics with PromQL that parses. */
function checkDashboard(dashboard: Dashboard): void {
  const panels = flattenPanels(dashboard.panels);
  const queries = panels.flatMap((panel) => (panel.targets ?? []).map((target) => ({ panel: panel.title, expr: target.expr ?? '' })));

  it('is an importable dashboard with a DS_PROMETHEUS input and variable, job and instance variables', () => {
    assert.ok(dashboard.schemaVersion >= 36 && dashboard.schemaVersion <= 41, `schemaVersion ${dashboard.schemaVersion}`);
    assert.equal(typeof dashboard.title, 'string');
    assert.equal(typeof dashboard.uid, 'string');
    assert.ok(
      dashboard.__inputs?.some((input) => input.name === 'DS_PROMETHEUS' && input.pluginId === 'prometheus'),
      '__inputs has DS_PROMETHEUS',
    );
    const variables = new Map(dashboard.templating.list.map((v) => [v.name, v]));
    assert.equal(variables.get('DS_PROMETHEUS')?.type, 'datasource');
    assert.equal(variables.get('DS_PROMETHEUS')?.query, 'prometheus');
    assert.equal(variables.get('instance')?.type, 'query');
    assert.equal(variables.get('job')?.type, 'query');
    const ids = panels.map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
    for (const panel of panels) {
      assert.ok(panel.gridPos && panel.gridPos.w > 0 && panel.gridPos.h > 0, `${panel.title}: gridPos`);
      if (panel.type === 'row') continue;
      assert.equal(panel.datasource?.uid, '${DS_PROMETHEUS}', `${panel.title}: datasource`);
      assert.ok((panel.targets ?? []).length > 0, `${panel.title}: has queries`);
      for (const target of panel.targets ?? []) {
        assert.equal(target.datasource?.uid, '${DS_PROMETHEUS}', `${panel.title}: target datasource`);
      }
    }
  });

  it('queries only the metrics the app exports, prom-client defaults, `up` and deploy/ recording rules', async () => {
    const allowed = await allowedMetricNames();
    const variableQueries = dashboard.templating.list
      .map((v) => (typeof v.query === 'string' ? v.query : v.query?.query) ?? '')
      .filter((q) => q.startsWith('label_values('))
      .map((q) => ({ panel: 'templating', expr: q.replace(/^label_values\((.*),\s*\w+\)$/, '$1') }));
    let checked = 0;
    for (const { panel, expr } of [...queries, ...variableQueries]) {
      const names = promqlMetricNames(expr);
      assert.ok(names.length > 0, `${panel}: found no metric in ${expr}`);
      for (const name of names) {
        assert.ok(allowed.has(name), `${panel}: unknown metric ${name} in ${expr}`);
        checked += 1;
      }
    }
    console.log(`dashboard: ${queries.length} panel queries, ${checked} metric references, all known`);
  });

  it('every panel query parses (promtool check rules on the queries as recording rules)', async (t: TestContext) => {
    if (!promtool) return t.skip(PROMTOOL_SKIP);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ofa-ve-dashboard-'));
    try {
      const rules = queries.map((q, i) => ({ record: `dashboard:query_${i}`, expr: substituteGrafanaVariables(q.expr) }));
      const file = path.join(dir, 'dashboard-queries.rules.yml');
      // JSON is YAML
      await writeFile(file, JSON.stringify({ groups: [{ name: 'dashboard-queries', rules }] }, null, 2));
      const out = await expectSuccess(promtool, ['check', 'rules', file]);
      assert.match(out, new RegExp(`SUCCESS: ${rules.length} rules found`));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}

describe('deploy/grafana/ofa-ve-dashboard.json: panels', () => {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Dashboard;
  const panels = flattenPanels(dashboard.panels);
  const queries = panels.flatMap((panel) => (panel.targets ?? []).map((target) => ({ panel: panel.title, expr: target.expr ?? '' })));

  it('has the panels the ops view needs', () => {
    const all = queries.map((q) => q.expr).join('\n');
    const expect: Array<[string, RegExp]> = [
      ['QPS by result_type, stacked', /sum by \(result_type\) \(rate\(ofa_ve_request_total/],
      ['P50/P90/P99', /histogram_quantile\(0\.5,[\s\S]*histogram_quantile\(0\.9,[\s\S]*histogram_quantile\(0\.99,/],
      ['server error rate, 5xx over checks run', /status_code=~"5\.\."[\s\S]*status_code!~"4\.\."/],
      ['client errors', /status_code=~"4\.\."/],
      ['P90 per stage', /histogram_quantile\(0\.9, sum by \(stage, le\) \(rate\(ofa_ve_stage_latency_seconds_bucket/],
      [
        'P90 per stage and caption script',
        /histogram_quantile\(0\.9, sum by \(stage, script, le\) \(rate\(ofa_ve_stage_latency_seconds_bucket/,
      ],
      ['mean time per check by stage', /by \(stage\) \(rate\(ofa_ve_stage_latency_seconds_sum[\s\S]*ofa_ve_request_latency_seconds_count/],
      ['queue depth', /ofa_ve_queue_depth/],
      ['inflight', /ofa_ve_inflight_requests/],
      ['batch size mean', /ofa_ve_batch_size_sum[\s\S]*ofa_ve_batch_size_count/],
      ['batch size distribution', /ofa_ve_batch_size_bucket/],
      ['GPU memory', /ofa_ve_gpu_memory_mb/],
      ['process RSS', /process_resident_memory_bytes/],
      ['event-loop lag', /nodejs_eventloop_lag/],
      ['warnings by code', /sum by \(code\) \(rate\(ofa_ve_check_warnings_total/],
      ['worker restarts', /increase\(ofa_ve_worker_restarts_total/],
      ['model ready', /ofa_ve_model_ready/],
    ];
    for (const [what, pattern] of expect) assert.match(all, pattern, what);
    const qps = panels.find((p) => (p.targets ?? []).some((t) => /by \(result_type\)/.test(t.expr ?? '')));
    assert.equal(qps?.fieldConfig?.defaults?.custom?.stacking?.mode, 'normal', 'QPS panel is stacked');
    const breakdown = panels.find((p) => p.title === 'Stage breakdown (mean per check)');
    assert.equal(breakdown?.fieldConfig?.defaults?.custom?.stacking?.mode, 'normal', 'the stage breakdown stacks up to the mean');
    assert.ok(
      breakdown?.targets?.some((t) => t.legendFormat === 'untimed'),
      'the stage breakdown has the untimed remainder',
    );
  });

  it("the latency panel draws OfaVeHighLatencyP95's threshold next to that alert's own P95 query", () => {
    const alert = alertRules().find((a) => a.name === 'OfaVeHighLatencyP95')!;
    const threshold = Number(/\) > ([\d.]+)$/m.exec(alert.text)?.[1]);
    const window = /rate\(ofa_ve_request_latency_seconds_bucket\[(\w+)\]\)/.exec(alert.text)?.[1];
    assert.ok(threshold > 0 && window, 'the alert compares a P95 over a rate window with a threshold');
    const panel = panels.find((p) => p.title === 'Check latency P50 / P90 / P95 / P99');
    assert.ok(panel, 'panel "Check latency P50 / P90 / P95 / P99"');
    const steps = panel.fieldConfig?.defaults?.thresholds?.steps ?? [];
    assert.ok(
      steps.some((step) => step.value === threshold),
      `the panel draws the alert's threshold ${threshold}`,
    );
    const p95 = panel.targets?.find((t) => /histogram_quantile\(0\.95,/.test(t.expr ?? ''));
    assert.match(
      p95?.expr ?? '',
      new RegExp(`sum by \\(le\\) \\(rate\\(ofa_ve_request_latency_seconds_bucket\\{[^}]*\\}\\[${window}\\]\\)\\)`),
    );
    assert.match(p95?.legendFormat ?? '', new RegExp(`P95 \\(alert > ${threshold}s\\)`));
  });

  it('aggregates every read of the stage histogram, so its script label (issue 17) is summed over unless asked for', () => {
    const reads = queries.filter((q) => q.expr.includes('ofa_ve_stage_latency_seconds'));
    assert.ok(reads.length >= 3, 'the stage panels read the stage histogram');
    for (const { panel, expr } of reads) {
      const uses = expr.match(/\w+\(ofa_ve_stage_latency_seconds_\w+\{[^}]*\}\[[^\]]+\]\)/g) ?? [];
      assert.ok(uses.length > 0, `${panel}: reads the stage histogram through rate(): ${expr}`);
      for (const use of uses) {
        const before = expr.slice(0, expr.indexOf(use));
        assert.match(before, /sum(?: by \([^)]*\))? ?\($/, `${panel}: ${use} is not directly under a sum: ${expr}`);
        const by = /sum by \(([^)]*)\) ?\($/.exec(before)?.[1];
        if (by?.includes('script')) assert.match(panel, /script/, `${panel}: splits by script, so its title must say so`);
      }
    }
  });

  it('shows server errors (5xx) and client errors (4xx) apart, and nowhere every non-200 as one error rate', () => {
    const exprsOf = (title: string): string[] => (panels.find((p) => p.title === title)?.targets ?? []).map((t) => t.expr ?? '');
    const server = exprsOf('Server error rate (5xx)');
    const client = exprsOf('Client errors (4xx)');
    assert.ok(server.length > 0 && client.length > 0, 'panels "Server error rate (5xx)" and "Client errors (4xx)"');
    for (const expr of server) {
      assert.doesNotMatch(expr, /status_code=~"4\.\."/, `server error rate counts no 4xx: ${expr}`);
      assert.match(expr, /status_code=~"5\.\."/, `server error rate counts 5xx: ${expr}`);
    }
    for (const expr of client) {
      assert.match(expr, /status_code=~"4\.\."/, `client errors count 4xx: ${expr}`);
      assert.doesNotMatch(expr, /"5\.\."/, `client errors count no 5xx: ${expr}`);
    }
    for (const { panel, expr } of queries) {
      assert.doesNotMatch(expr, /status_code\s*!=\s*"200"|status_code\s*!~\s*"2\.\."/, `${panel}: lumps 4xx and 5xx together`);
    }
  });
});

describe('deploy/grafana/ofa-ve-fleet-dashboard.json: panels', () => {
  const dashboard = JSON.parse(readFileSync(FLEET_DASHBOARD, 'utf8')) as Dashboard;
  const panels = flattenPanels(dashboard.panels);
  const exprsOf = (title: string): string[] => (panels.find((p) => p.title === title)?.targets ?? []).map((t) => t.expr ?? '');

  it('has per-replica skew, the slowest replica, queue depth by replica and fleet quantiles from sum by (le)', () => {
    const expect: Array<[string, RegExp]> = [
      ['Replicas up', /up\{job="\$job"\} == 1[\s\S]*up\{job="\$job"\} == 0/],
      ['Fleet QPS', /^job:ofa_ve_requests:rate1m\{job="\$job"\}$/],
      ['QPS per replica', /^instance:ofa_ve_requests:rate1m\{/],
      ['Load skew per replica', /^instance:ofa_ve_requests_skew:ratio_rate1m\{/],
      ['Slowest replica (P90)', /^topk\(1, instance:ofa_ve_request_latency_seconds:p90_rate1m\{/],
      ['P90 relative to the fleet (slowest first)', /instance:ofa_ve_request_latency_p90_skew:ratio_rate1m/],
      ['Queue depth by replica', /sum by \(instance\) \(ofa_ve_queue_depth\{/],
      ['In flight by replica (1m mean)', /instance:ofa_ve_inflight_requests:avg1m/],
      ['In flight per replica (autoscaling signal)', /job:ofa_ve_inflight_requests:sum_avg1m/],
      ['Fleet latency P50 / P90 / P99', /p50_rate1m[\s\S]*p90_rate1m[\s\S]*p99_rate1m/],
      ['Server error ratio (5xx) per replica', /instance:ofa_ve_server_errors:ratio_rate1m/],
    ];
    for (const [title, pattern] of expect) assert.match(exprsOf(title).join('\n'), pattern, title);
    // the fleet quantiles come from the bucket rates summed by le, never from averaging the replicas' quantiles
    const fleetRules = readFileSync(path.join(RULES_DIR, 'ofa-ve-fleet.rules.yml'), 'utf8');
    assert.match(fleetRules, /record: job_le:ofa_ve_request_latency_seconds_bucket:rate1m\n\s+expr: sum by \(job, le\)/);
    for (const q of ['0.5', '0.9', '0.99'])
      assert.match(fleetRules, new RegExp(`histogram_quantile\\(${q}, job_le:ofa_ve_request_latency_seconds_bucket:rate1m\\)`));
    const stacked = panels.find((p) => p.title === 'QPS per replica');
    assert.equal(stacked?.fieldConfig?.defaults?.custom?.stacking?.mode, 'normal', 'the replicas stack up to the fleet QPS');
  });
});

describe('deploy/alertmanager.yml', () => {
  const config = path.join(DEPLOY, 'alertmanager.yml');

  it('amtool check-config deploy/alertmanager.yml', async (t: TestContext) => {
    if (!amtool) return t.skip(AMTOOL_SKIP);
    const out = await expectSuccess(amtool, ['check-config', config]);
    assert.match(out, /SUCCESS/);
    assert.match(out, /1 inhibit rules/);
    assert.match(out, /2 receivers/);
  });

  it('groups by alertname, family and job, and inhibits only within one family and one job', () => {
    const parsed = yaml.load(readFileSync(config, 'utf8')) as {
      route: { group_by: string[] };
      inhibit_rules: Array<{ equal: string[] }>;
    };
    assert.deepEqual(parsed.route.group_by, ['alertname', 'family', 'job']);
    assert.deepEqual(parsed.inhibit_rules[0]?.equal, ['family', 'job'], "a page in one job never mutes another job's tickets");
  });

  it('inhibition never mutes a critical/page alert; a page mutes only the tickets of its own family', () => {
    const parsed = yaml.load(readFileSync(config, 'utf8')) as {
      inhibit_rules: Array<{ source_matchers: string[]; target_matchers: string[]; equal: string[] }>;
    };
    const rules = parsed.inhibit_rules.map((r) => ({
      source: r.source_matchers.map(alertmanagerMatcher),
      target: r.target_matchers.map(alertmanagerMatcher),
      equal: r.equal,
    }));
    const alerts = alertRules().map((a) => ({ key: a.key, labels: { alertname: a.name, severity: a.severity, family: a.family } }));
    const all = (tests: Array<(l: Record<string, string>) => boolean>, labels: Record<string, string>) => tests.every((t) => t(labels));
    /** The rules' alerts that can mute `target` (same job assumed: every alert keeps job). */
    const mutedBy = (target: (typeof alerts)[number]): string[] =>
      alerts
        .filter((source) =>
          rules.some(
            (r) =>
              all(r.target, target.labels) &&
              all(r.source, source.labels) &&
              r.equal.every(
                (l) => l === 'job' || source.labels[l as keyof typeof source.labels] === target.labels[l as keyof typeof target.labels],
              ),
          ),
        )
        .map((source) => source.key);
    for (const alert of alerts) {
      const by = mutedBy(alert);
      if (PAGING_SEVERITIES.has(alert.labels.severity)) assert.deepEqual(by, [], `${alert.key} (a page) is never muted`);
      for (const source of by) {
        const s = alerts.find((a) => a.key === source)!;
        assert.equal(s.labels.family, alert.labels.family, `${alert.key} muted by ${source} of another family`);
        assert.ok(PAGING_SEVERITIES.has(s.labels.severity), `${alert.key} muted by ${source}, not a page`);
      }
    }
    // the target-down ticket: muted by the target pages of its job only (never by the availability pages)
    const ticket = alerts.find((a) => a.key === 'OfaVeTargetDown{severity=warning}');
    assert.ok(ticket, 'OfaVeTargetDown has a warning (ticket) rule');
    assert.deepEqual(mutedBy(ticket).sort(), ['OfaVeTargetAbsent', 'OfaVeTargetDown{severity=critical}']);
  });

  it('routes critical/page to the pager webhook and warning/ticket to the ticket webhook', async (t: TestContext) => {
    if (!amtool) return t.skip(AMTOOL_SKIP);
    const routes: Array<[string, string]> = [
      ['critical', 'ofa-ve-pager'],
      ['page', 'ofa-ve-pager'],
      ['warning', 'ofa-ve-tickets'],
      ['ticket', 'ofa-ve-tickets'],
    ];
    for (const [severity, receiver] of routes) {
      await expectSuccess(amtool, [
        'config',
        'routes',
        'test',
        `--config.file=${config}`,
        `--verify.receivers=${receiver}`,
        `severity=${severity}`,
        'alertname=OfaVeTest',
        'family=ofa-ve-availability',
      ]);
    }
    const text = readFileSync(config, 'utf8');
    assert.match(text, /url: http:\/\/127\.0\.0\.1:5001\/hook/);
  });

  it('each alert rule reaches the pager only if its severity is critical or page', async (t: TestContext) => {
    if (!amtool) return t.skip(AMTOOL_SKIP);
    const seen = new Set<string>();
    for (const alert of alertRules()) {
      const labelValue = (label: string): string => new RegExp(`^\\s+${label}: (\\S+)$`, 'm').exec(alert.text)?.[1] ?? '';
      const labels = ['severity', 'family'].map((label) => `${label}=${labelValue(label)}`);
      const key = [alert.name, ...labels].join(' ');
      if (seen.has(key)) continue; // the window pairs of one burn-rate alert share their labels
      seen.add(key);
      const receiver = PAGING_SEVERITIES.has(labelValue('severity')) ? 'ofa-ve-pager' : 'ofa-ve-tickets';
      const args = [`--config.file=${config}`, `--verify.receivers=${receiver}`, `alertname=${alert.name}`, ...labels];
      await expectSuccess(amtool, ['config', 'routes', 'test', ...args]);
    }
  });
});

// ---- helpers -----------------------------------------------------------------------------------

interface AlertRule {
  name: string;
  longWindow: string | undefined;
  severity: string;
  family: string;
  key: string;
  /** Where rules share an alertname: the exp_labels line a promtool case must carry to be about this rule. */
  distinguishedBy: string | undefined;
  text: string;
}

/**
 * The alert rules of deploy/rules/*.rules.yml, one text block each. Rules sharing an alertname are
 * told apart by long_window (the burn-rate window pairs) or else by severity (OfaVeTargetDown: a
 * ticket for every down target, a page as well with at least half the job's targets down).
 */
function alertRules(): AlertRule[] {
  const text = readFileSync(path.join(RULES_DIR, 'ofa-ve-alerts.rules.yml'), 'utf8');
  const blocks = text
    .split(/^(?=\s*- alert: )/m)
    .slice(1)
    .map((block) => ({
      name: /- alert: (\S+)/.exec(block)?.[1] ?? '',
      longWindow: /^\s+long_window: (\S+)$/m.exec(block)?.[1],
      severity: /^\s+severity: (\S+)$/m.exec(block)?.[1] ?? '',
      family: /^\s+family: (\S+)$/m.exec(block)?.[1] ?? '',
      text: block,
    }));
  return blocks.map((rule) => {
    const shared = blocks.filter((other) => other.name === rule.name).length > 1;
    if (rule.longWindow) {
      return {
        ...rule,
        key: `${rule.name}{long_window=${rule.longWindow}}`,
        distinguishedBy: `long_window: "${rule.longWindow}"`,
      };
    }
    if (shared) return { ...rule, key: `${rule.name}{severity=${rule.severity}}`, distinguishedBy: `severity: "${rule.severity}"` };
    return { ...rule, key: rule.name, distinguishedBy: undefined };
  });
}

/** An Alertmanager matcher such as `severity=~"critical|page"`, as a test on a label set (regexes anchored). */
function alertmanagerMatcher(matcher: string): (labels: Record<string, string>) => boolean {
  const m = /^(\w+)\s*(=~|!~|!=|=)\s*"(.*)"$/.exec(matcher);
  assert.ok(m, `matcher ${matcher}`);
  const [, label, op, value] = m as unknown as [string, string, string, string];
  const re = new RegExp(`^(?:${value})$`);
  return (labels) => {
    const v = labels[label] ?? '';
    if (op === '=') return v === value;
    if (op === '!=') return v !== value;
    if (op === '=~') return re.test(v);
    return !re.test(v);
  };
}

interface AlertTestCase {
  alertname: string;
  fires: boolean;
  body: string;
}

/** The alert_rule_test cases of one promtool test file. */
function alertTestCases(text: string): AlertTestCase[] {
  return text
    .split(/^(?=\s*- eval_time: )/m)
    .slice(1)
    .flatMap((chunk) => {
      const body = chunk.split(/^\s*(?:- name:|promql_expr_test:)/m)[0] ?? '';
      const alertname = /^\s+alertname: (\S+)$/m.exec(body)?.[1];
      if (!alertname) return [];
      return [{ alertname, fires: !/exp_alerts: \[\]/.test(body) && /exp_alerts:\s*\n\s+- exp_labels:/.test(body), body }];
    });
}

interface RecordingRule {
  name: string;
  expr: string;
}

/** The recording rules of deploy/rules/ofa-ve-recording.rules.yml. */
function recordingRules(): RecordingRule[] {
  const text = readFileSync(path.join(RULES_DIR, 'ofa-ve-recording.rules.yml'), 'utf8');
  return text
    .split(/^(?=\s*- record: )/m)
    .slice(1)
    .map((block) => ({ name: /- record: (\S+)/.exec(block)?.[1] ?? '', expr: block.replace(/^\s*#.*$/gm, '') }));
}

/** Every status_code label matcher in a rule's text, spaces removed: `status_code=~"5.."`. */
function statusCodeMatchers(text: string): string[] {
  return [...text.matchAll(/status_code\s*(=~|!~|!=|=)\s*"([^"]*)"/g)].map((m) => `status_code${m[1]}"${m[2]}"`);
}

async function allowedMetricNames(): Promise<Set<string>> {
  const names = new Set<string>(['up']);
  // the app's own registry (ofa_ve_gpu_memory_mb appears once a GPU is in use) and prom-client's
  // default metrics, exactly as the installed version names them (no prefix)
  const app = new ServiceMetrics({ appVersion: '0.0.0-deploy-test', defaultMetrics: false });
  app.enableGpuMemory(async () => undefined);
  const defaults = new Registry();
  collectDefaultMetrics({ register: defaults });
  try {
    for (const metric of [...(await app.registry.getMetricsAsJSON()), ...(await defaults.getMetricsAsJSON())]) {
      if (String(metric.type) === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(metric.name + suffix);
      else names.add(metric.name);
    }
  } finally {
    app.close();
  }
  for (const file of listFiles(RULES_DIR, '.rules.yml')) {
    for (const match of readFileSync(file, 'utf8').matchAll(/^\s*- record: (\S+)$/gm)) names.add(match[1]!);
  }
  return names;
}

const PROMQL_KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
  'inf',
  'nan',
  'atan2',
]);

/** Metric names referenced by a PromQL expression (Grafana variables allowed). */
function promqlMetricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""') // strings
    .replace(/\{[^}]*\}/g, '') // label matchers
    .replace(/\[[^\]]*\]/g, '') // range and subquery durations ($__rate_interval etc.)
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '') // label lists
    .replace(/\$\{?\w+\}?/g, ''); // any other Grafana variable
  const names: string[] = [];
  for (const match of stripped.matchAll(/(?<![\w:.])[A-Za-z_:][\w:]*/g)) {
    const word = match[0];
    const rest = stripped.slice((match.index ?? 0) + word.length);
    if (/^\s*\(/.test(rest)) continue; // a function or aggregation
    if (PROMQL_KEYWORDS.has(word.toLowerCase())) continue;
    names.push(word);
  }
  return names;
}

/** Grafana's variables replaced by values Prometheus accepts, so the query can be parsed. */
function substituteGrafanaVariables(expr: string): string {
  return expr
    .replaceAll('$__rate_interval', '1m')
    .replaceAll('$__interval', '1m')
    .replaceAll('$__range', '1h')
    .replace(/\$\{?job\}?/g, 'ofa-ve')
    .replace(/\$\{?instance\}?/g, '.*');
}

interface PrometheusConfig {
  global: { external_labels?: Record<string, string> };
  rule_files: string[];
  alerting?: { alertmanagers?: Array<{ static_configs?: Array<{ targets: string[] }> }> };
  remote_write?: Array<{ url: string }>;
  scrape_configs: Array<{
    job_name: string;
    authorization?: { type?: string; credentials_file?: string };
    file_sd_configs?: unknown[];
    kubernetes_sd_configs?: Array<{ role: string }>;
    static_configs?: Array<{ targets: string[] }>;
    relabel_configs?: Array<{ source_labels?: string[]; target_label?: string }>;
  }>;
}

interface GrafanaTarget {
  expr?: string;
  legendFormat?: string;
  datasource?: { type?: string; uid?: string };
}

interface GrafanaPanel {
  id: number;
  type: string;
  title: string;
  gridPos?: { x: number; y: number; w: number; h: number };
  datasource?: { type?: string; uid?: string };
  targets?: GrafanaTarget[];
  panels?: GrafanaPanel[];
  fieldConfig?: {
    defaults?: { custom?: { stacking?: { mode?: string } }; thresholds?: { steps?: Array<{ value: number | null }> } };
  };
}

interface Dashboard {
  title: string;
  uid: string;
  schemaVersion: number;
  __inputs?: Array<{ name: string; pluginId?: string }>;
  panels: GrafanaPanel[];
  templating: { list: Array<{ name: string; type: string; query?: string | { query?: string } }> };
}

function flattenPanels(panels: GrafanaPanel[]): GrafanaPanel[] {
  return panels.flatMap((panel) => [panel, ...flattenPanels(panel.panels ?? [])]);
}
