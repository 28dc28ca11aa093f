/**
 * Issue 6, "Peer" baseline: our /metrics stack (prom-client via ServiceMetrics on node:http) against
 * the seed's (Python prometheus_client and its start_http_server), the same metric families and
 * series populated with the same synthetic traffic, loaded on loopback with the same tool (wrk),
 * plus observe() cost per call in each language. By hand only (needs wrk, python3-prometheus-client):
 *   node --import tsx bench/peer/run-peer-bench.ts [--duration 10] [--rounds 2] [--json out.json]
 * Every child is bounded in time and killed on exit, failure or Ctrl-C.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { STAGE_NAMES } from '../../preload/wire-types.ts';
import { BATCH_SIZE_BUCKETS, REQUEST_LATENCY_BUCKETS, STAGE_LATENCY_BUCKETS } from '../../main/telemetry/metric-buckets.ts';
import { CHECK_STATUS_CODES } from '../../main/errors.ts';
import type { ObserveBenchResult } from './observe-bench.ts';
import { cpuSeconds } from '../support/proc-stats.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '2' },
    connections: { type: 'string', default: '8' },
    threads: { type: 'string', default: '1' },
    warmup: { type: 'string', default: '3' },
    requests: { type: 'string', default: '10000' },
    calls: { type: 'string', default: '200000' },
    repeats: { type: 'string', default: '7' },
    python: { type: 'string', default: process.env.PEER_PYTHON ?? '/usr/bin/python3' },
    'no-close-variant': { type: 'boolean', default: false },
    json: { type: 'string' },
  },
});
const DURATION_S = Number(args.duration);
const ROUNDS = Number(args.rounds);
const CONNECTIONS = Number(args.connections);
const THREADS = Number(args.threads);
const WARMUP_S = Number(args.warmup);
const PYTHON = args.python;
const CLOSE_VARIANT = !args['no-close-variant'];
for (const [name, value] of Object.entries({ DURATION_S, ROUNDS, CONNECTIONS, THREADS })) {
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, got ${value}`);
}

// ---- child processes: every one is tracked and killed on exit, whatever the reason --------------

const children = new Set<ChildProcess>();
function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}
function killAll(signal: NodeJS.Signals): void {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill(signal);
}
process.on('exit', () => killAll('SIGKILL'));
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: stopping`);
    process.exit(130);
  });
}
// The whole run's bound: wrk runs, servers' start, two micro-benchmarks, with generous slack.
const rowsPerRound = CLOSE_VARIANT ? 3 : 2;
const BUDGET_S = rowsPerRound * (ROUNDS * (DURATION_S + 15) + WARMUP_S + 15) + 2 * 300 + 120;
setTimeout(() => {
  console.error(`run-peer-bench: over its ${BUDGET_S} s budget, giving up`);
  process.exit(2);
}, BUDGET_S * 1000).unref();

/** Runs a command to completion within timeoutMs, returning stdout (throws on failure). */
function run(command: string, argv: string[], timeoutMs: number, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = track(spawn(command, argv, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] }));
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += String(d)));
    child.stderr!.on('data', (d) => (stderr += String(d)));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    // 'close', not 'exit': all of stdout has been read by then.
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(stdout);
      else reject(new Error(`${command} ${argv.join(' ')} failed (${signal ?? `exit ${code}`}):\n${stderr || stdout}`));
    });
  });
}

interface Server {
  name: string;
  child: ChildProcess;
  url: string;
}

/** Starts a server that prints `listening URL` once ready. */
function startServer(name: string, command: string, argv: string[], env: NodeJS.ProcessEnv): Promise<Server> {
  return new Promise((resolve, reject) => {
    const child = track(spawn(command, argv, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] }));
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name}: not ready within 30 s:\n${output}`));
    }, 30_000);
    const onData = (d: unknown) => {
      output += String(d);
      const url = /listening (http:\/\/\S+)/.exec(output)?.[1];
      if (url) {
        clearTimeout(timer);
        resolve({ name, child, url });
      }
    };
    // Keep draining both pipes for the server's whole life.
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name}: exited (${signal ?? code}) before ready:\n${output}`));
    });
  });
}

async function stopServer(server: Server): Promise<void> {
  const { child } = server;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

// ---- the exposition: families, series, values -------------------------------------------------

interface Exposition {
  bytes: number;
  families: Map<string, string>;
  /** Normalised `name{sorted labels}` → value. */
  series: Map<string, number>;
}

function parseExposition(body: string): Exposition {
  const families = new Map<string, string>();
  const series = new Map<string, number>();
  for (const line of body.split('\n')) {
    if (line.startsWith('# TYPE ')) {
      const [, , name, type] = line.split(' ');
      if (name && type) families.set(name, type);
      continue;
    }
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\S+)?$/.exec(line);
    if (!m) throw new Error(`unparsable exposition line: ${line}`);
    const labels = [...(m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map(([, k, v]) =>
      // le="1" (prom-client) and le="1.0" (prometheus_client) are the same bucket.
      k === 'le' ? `le=${Number(v)}` : `${k}=${v}`,
    );
    series.set(`${m[1]}{${labels.sort().join(',')}}`, Number(m[3]));
  }
  return { bytes: Buffer.byteLength(body), families, series };
}

async function scrape(url: string): Promise<Exposition> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return parseExposition(await res.text());
}

const OURS_PREFIX = 'ofa_ve_';
const ofa = <T>(m: Map<string, T>) => [...m.keys()].filter((k) => k.startsWith(OURS_PREFIX)).sort();

/** Fails unless both expose the same ofa_ve_* families, series and values. */
function compareExpositions(ours: Exposition, peer: Exposition): string[] {
  const problems: string[] = [];
  const [of, pf] = [ofa(ours.families), ofa(peer.families)];
  if (of.join() !== pf.join()) problems.push(`ofa_ve_* families differ: ours [${of.join(', ')}], peer [${pf.join(', ')}]`);
  for (const name of of) {
    if (ours.families.get(name) !== peer.families.get(name)) {
      problems.push(`${name}: type ${ours.families.get(name)} vs ${peer.families.get(name)}`);
    }
  }
  const [os_, ps] = [ofa(ours.series), ofa(peer.series)];
  if (os_.length !== ps.length) problems.push(`ofa_ve_* series count differs: ours ${os_.length}, peer ${ps.length}`);
  for (const key of os_) {
    const a = ours.series.get(key) as number;
    const b = peer.series.get(key);
    if (b === undefined) problems.push(`only ours has ${key}`);
    else if (!(a === b || Math.abs(a - b) <= 1e-12 * Math.max(Math.abs(a), Math.abs(b)))) {
      problems.push(`${key}: ours ${a}, peer ${b}`);
    }
  }
  for (const key of ps) if (!ours.series.has(key)) problems.push(`only peer has ${key}`);
  return problems;
}

// ---- wrk ----------------------------------------------------------------------------------------

interface WrkResult {
  requests: number;
  requestsPerSec: number;
  p50Ms: number;
  p75Ms: number;
  p90Ms: number;
  p99Ms: number;
  bytesPerResponse: number;
  socketErrors: string | null;
  non2xx: number;
  /** Server process CPU (user + system) per response, from /proc. */
  serverCpuMsPerResponse: number | null;
}

const UNIT_MS: Record<string, number> = { us: 1e-3, ms: 1, s: 1000, m: 60_000 };
const UNIT_BYTES: Record<string, number> = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 };

function parseWrk(output: string): Omit<WrkResult, 'serverCpuMsPerResponse'> {
  const percentile = (p: number) => {
    const m = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm').exec(output);
    if (!m) throw new Error(`wrk output lacks its ${p}% latency:\n${output}`);
    return Number(m[1]) * (UNIT_MS[m[2] as string] as number);
  };
  const rps = /^Requests\/sec:\s+([\d.]+)/m.exec(output);
  const total = /^\s+(\d+) requests in [\d.]+\w+, ([\d.]+)(B|KB|MB|GB|TB) read/m.exec(output);
  if (!rps || !total) throw new Error(`unparsable wrk output:\n${output}`);
  const requests = Number(total[1]);
  return {
    requests,
    requestsPerSec: Number(rps[1]),
    p50Ms: percentile(50),
    p75Ms: percentile(75),
    p90Ms: percentile(90),
    p99Ms: percentile(99),
    bytesPerResponse: (Number(total[2]) * (UNIT_BYTES[total[3] as string] as number)) / requests,
    socketErrors: /^\s+Socket errors: (.*)$/m.exec(output)?.[1] ?? null,
    non2xx: Number(/^\s+Non-2xx or 3xx responses: (\d+)/m.exec(output)?.[1] ?? 0),
  };
}

/** utime + stime of a process, in ms (all its threads). */
function cpuMs(pid: number | undefined): number | null {
  const seconds = pid === undefined ? undefined : cpuSeconds(pid);
  return seconds === undefined ? null : seconds * 1000;
}

async function wrk(server: Server, seconds: number, extra: string[] = []): Promise<WrkResult> {
  const before = cpuMs(server.child.pid);
  const output = await run(
    'wrk',
    [`-t${THREADS}`, `-c${CONNECTIONS}`, `-d${seconds}s`, '--latency', '--timeout', '5s', ...extra, server.url],
    (seconds + 30) * 1000,
  );
  const after = cpuMs(server.child.pid);
  const parsed = parseWrk(output);
  const serverCpuMsPerResponse = before === null || after === null ? null : (after - before) / parsed.requests;
  return { ...parsed, serverCpuMsPerResponse };
}

// ---- report helpers -----------------------------------------------------------------------------

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};
const fmt = (x: number, digits = 2) => (Number.isFinite(x) ? x.toFixed(digits) : 'n/a');
const ratio = (a: number, b: number) => (b > 0 ? `${(a / b).toFixed(2)}×` : 'n/a');

function firstLine(command: string, argv: string[]): string {
  const r = spawnSync(command, argv, { encoding: 'utf8', timeout: 10_000 });
  return `${r.stdout ?? ''}${r.stderr ?? ''}`.split('\n')[0]?.trim() || 'unknown';
}

// ---- main ---------------------------------------------------------------------------------------

const pythonCheck = spawnSync(PYTHON, ['-c', 'import prometheus_client'], { encoding: 'utf8', timeout: 10_000 });
if (pythonCheck.status !== 0) {
  throw new Error(
    `${PYTHON} cannot import prometheus_client (apt-get install python3-prometheus-client; use Debian's /usr/bin/python3):\n${pythonCheck.stderr}`,
  );
}
if (spawnSync('wrk', ['-v'], { encoding: 'utf8', timeout: 10_000 }).error) throw new Error('wrk not found (apt-get install wrk)');

const pythonEnv = { ...process.env, PYTHONDONTWRITEBYTECODE: '1' };
/** Our live buckets, statuses and stages, handed to the Python side so the two cannot drift apart. */
const SPEC = JSON.stringify({
  request_latency_buckets: REQUEST_LATENCY_BUCKETS,
  stage_latency_buckets: STAGE_LATENCY_BUCKETS,
  batch_size_buckets: BATCH_SIZE_BUCKETS,
  check_status_codes: CHECK_STATUS_CODES,
  stages: STAGE_NAMES,
});
const machine = {
  date: new Date().toISOString(),
  nproc: os.availableParallelism(),
  cpu: /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown',
  kernel: `${os.type()} ${os.release()}`,
  node: process.version,
  python: firstLine(PYTHON, ['--version']),
  prometheusClient: firstLine(PYTHON, ['-c', "from importlib.metadata import version; print(version('prometheus_client'))"]),
  promClient: (createRequire(import.meta.url)('prom-client/package.json') as { version: string }).version,
  wrk: firstLine('wrk', ['-v']),
};
const config = {
  durationS: DURATION_S,
  rounds: ROUNDS,
  connections: CONNECTIONS,
  threads: THREADS,
  warmupS: WARMUP_S,
  syntheticRequests: Number(args.requests),
};
console.log(`# Peer baseline (issue 6): /metrics and observe(), ours (Node, prom-client) vs peer (Python, prometheus_client)`);
console.log(`${machine.date} · ${machine.nproc} CPUs · ${machine.cpu} · ${machine.kernel}`);
console.log(
  `node ${machine.node}, prom-client ${machine.promClient} · ${machine.python}, prometheus_client ${machine.prometheusClient} · ${machine.wrk}`,
);

const servers: Server[] = [];
try {
  const [ours, peer] = await Promise.all([
    startServer(
      'ours',
      process.execPath,
      ['--import', 'tsx', path.join(here, 'node-metrics-server.ts'), '--requests', args.requests],
      process.env,
    ),
    startServer('peer', PYTHON, [path.join(here, 'python_metrics_server.py'), '--requests', args.requests, '--spec', SPEC], pythonEnv),
  ]);
  servers.push(ours, peer);

  // Same families, same series, same values?
  const [oursExp, peerExp] = await Promise.all([scrape(ours.url), scrape(peer.url)]);
  const exposition = {
    ours: {
      bytes: oursExp.bytes,
      families: oursExp.families.size,
      series: oursExp.series.size,
      ofaFamilies: ofa(oursExp.families).length,
      ofaSeries: ofa(oursExp.series).length,
    },
    peer: {
      bytes: peerExp.bytes,
      families: peerExp.families.size,
      series: peerExp.series.size,
      ofaFamilies: ofa(peerExp.families).length,
      ofaSeries: ofa(peerExp.series).length,
    },
  };
  console.log(
    `\nofa_ve_* series: ours ${exposition.ours.ofaSeries} (${exposition.ours.ofaFamilies} families), peer ${exposition.peer.ofaSeries} (${exposition.peer.ofaFamilies} families)`,
  );
  console.log(
    `whole body: ours ${exposition.ours.bytes} B, ${exposition.ours.series} series in ${exposition.ours.families} families; peer ${exposition.peer.bytes} B, ${exposition.peer.series} series in ${exposition.peer.families} families (the rest are each runtime's default process metrics)`,
  );
  const problems = compareExpositions(oursExp, peerExp);
  if (problems.length) throw new Error(`the two servers do not expose the same ofa_ve_* metrics:\n  ${problems.slice(0, 20).join('\n  ')}`);
  console.log('ofa_ve_* families, series and values: identical on both sides');

  // Load: A/B(/C) alternated, so drift shows as a difference between rounds.
  type Target = { key: 'ours' | 'peer' | 'oursClose'; server: Server; extra: string[]; label: string };
  const targets: Target[] = [
    { key: 'ours', server: ours, extra: [], label: 'ours (keep-alive)' },
    { key: 'peer', server: peer, extra: [], label: 'peer (HTTP/1.0, one connection per scrape)' },
  ];
  if (CLOSE_VARIANT) targets.push({ key: 'oursClose', server: ours, extra: ['-H', 'Connection: close'], label: 'ours, Connection: close' });
  console.log(`\nwarm-up: ${WARMUP_S} s of wrk on each (not counted)`);
  for (const t of targets) await wrk(t.server, WARMUP_S, t.extra);
  const rounds: Record<string, WrkResult[]> = { ours: [], peer: [], oursClose: [] };
  const cmd = `wrk -t${THREADS} -c${CONNECTIONS} -d${DURATION_S}s --latency`;
  console.log(`load: ${cmd} URL/metrics, ${ROUNDS} rounds of ${targets.map((t) => t.key).join('/')}`);
  for (let r = 1; r <= ROUNDS; r++) {
    for (const t of targets) {
      const result = await wrk(t.server, DURATION_S, t.extra);
      rounds[t.key]!.push(result);
      console.log(
        `  round ${r} ${t.label.padEnd(44)} ${fmt(result.requestsPerSec, 0).padStart(7)} req/s  P50 ${fmt(result.p50Ms)} ms  P99 ${fmt(result.p99Ms)} ms  ` +
          `${fmt(result.bytesPerResponse, 0)} B/resp  server CPU ${fmt(result.serverCpuMsPerResponse ?? NaN, 3)} ms/resp` +
          (result.socketErrors ? `  socket errors: ${result.socketErrors}` : '') +
          (result.non2xx ? `  non-2xx: ${result.non2xx}` : ''),
      );
    }
  }
  // prom-client adds nodejs_gc_duration_seconds series per GC kind as they first happen (major,
  // incremental under load), so our body grows during the run: measure it again.
  const [oursAfter, peerAfter] = await Promise.all([scrape(ours.url), scrape(peer.url)]);
  const afterLoad = {
    ours: { bytes: oursAfter.bytes, series: oursAfter.series.size, ofaSeries: ofa(oursAfter.series).length },
    peer: { bytes: peerAfter.bytes, series: peerAfter.series.size, ofaSeries: ofa(peerAfter.series).length },
  };
  console.log(
    `after load, whole body: ours ${afterLoad.ours.bytes} B, ${afterLoad.ours.series} series; peer ${afterLoad.peer.bytes} B, ${afterLoad.peer.series} series`,
  );
  for (const server of servers) await stopServer(server);

  // observe() micro-benchmarks, each language in its own process, servers stopped.
  const microArgs = ['--calls', args.calls, '--repeats', args.repeats];
  console.log(`\nobserve(): ${args.calls} calls per repeat, median of ${args.repeats} repeats (after 2 warm-up repeats)`);
  const lastJson = (out: string) => JSON.parse(out.trim().split('\n').pop() ?? '{}') as ObserveBenchResult;
  const nodeMicro = lastJson(await run(process.execPath, ['--import', 'tsx', path.join(here, 'observe-bench.ts'), ...microArgs], 300_000));
  const pyMicro = lastJson(await run(PYTHON, [path.join(here, 'observe_bench.py'), ...microArgs, '--spec', SPEC], 300_000, pythonEnv));

  // ---- the table --------------------------------------------------------------------------------
  const m = (key: string, field: keyof WrkResult) => median(rounds[key]!.map((x) => x[field] as number));
  const rows: [string, number, number][] = [];
  const lines: string[] = [
    '',
    `| /metrics on loopback (${cmd}, median of ${ROUNDS} rounds) | ours: Node ${machine.node}, prom-client ${machine.promClient} | peer: ${machine.python}, prometheus_client ${machine.prometheusClient} | ours/peer |`,
    '|---|---:|---:|---:|',
  ];
  const httpRow = (label: string, field: keyof WrkResult, digits: number) => {
    const [a, b] = [m('ours', field), m('peer', field)];
    rows.push([label, a, b]);
    lines.push(`| ${label} | ${fmt(a, digits)} | ${fmt(b, digits)} | ${ratio(a, b)} |`);
  };
  httpRow('requests/s', 'requestsPerSec', 0);
  httpRow('P50 latency, ms', 'p50Ms', 2);
  httpRow('P99 latency, ms', 'p99Ms', 2);
  httpRow('server CPU per scrape, ms', 'serverCpuMsPerResponse', 3);
  httpRow('bytes per response (wrk, incl. headers)', 'bytesPerResponse', 0);
  lines.push(
    `| body bytes / series (all), before load | ${exposition.ours.bytes} / ${exposition.ours.series} | ${exposition.peer.bytes} / ${exposition.peer.series} | ${ratio(exposition.ours.bytes, exposition.peer.bytes)} |`,
    `| body bytes / series (all), after load | ${afterLoad.ours.bytes} / ${afterLoad.ours.series} | ${afterLoad.peer.bytes} / ${afterLoad.peer.series} | ${ratio(afterLoad.ours.bytes, afterLoad.peer.bytes)} |`,
  );
  lines.push(
    `| ofa_ve_* series | ${exposition.ours.ofaSeries} | ${exposition.peer.ofaSeries} | ${ratio(exposition.ours.ofaSeries, exposition.peer.ofaSeries)} |`,
  );
  if (CLOSE_VARIANT) {
    lines.push(
      `| ours with \`Connection: close\` (like the peer): requests/s, P50, P99 | ${fmt(m('oursClose', 'requestsPerSec'), 0)}, ${fmt(m('oursClose', 'p50Ms'))} ms, ${fmt(m('oursClose', 'p99Ms'))} ms | — | ${ratio(m('oursClose', 'requestsPerSec'), m('peer', 'requestsPerSec'))} (req/s) |`,
    );
  }
  lines.push(
    '',
    `| observe() cost, ns per call (median of ${args.repeats} × ${args.calls}) | ours: ${nodeMicro.library} | peer: ${pyMicro.library} | ours/peer |`,
    '|---|---:|---:|---:|',
  );
  const MICRO_LABELS: Record<string, string> = {
    loop_overhead: 'loop + no-op call (baseline, included below)',
    histogram_observe: 'Histogram.observe(v), no labels, 17 buckets',
    labelled_histogram_observe: "Histogram.labels('inference').observe(v), 14 buckets",
    histogram_observe_exemplar: 'request latency observe with exemplar {request_id}',
    record_request: 'ServiceMetrics.recordRequest (200, 5 stages) / Python mirror',
  };
  const micro: Record<string, { ours: number; peer: number }> = {};
  for (const [key, label] of Object.entries(MICRO_LABELS)) {
    const a = median(nodeMicro.samplesNs[key] ?? []);
    const b = median(pyMicro.samplesNs[key] ?? []);
    micro[key] = { ours: a, peer: b };
    lines.push(`| ${label} | ${fmt(a, 0)} | ${fmt(b, 0)} | ${ratio(a, b)} |`);
  }
  lines.push('', 'ours/peer: below 1× is better for ours on latency, CPU and ns; above 1× is better for ours on requests/s.');
  console.log(lines.join('\n'));

  if (args.json) {
    const report = {
      machine,
      config,
      exposition: { ...exposition, afterLoad },
      http: { command: cmd, rounds, medians: Object.fromEntries(rows.map(([label, a, b]) => [label, { ours: a, peer: b }])) },
      observe: { ours: nodeMicro, peer: pyMicro, mediansNs: micro },
    };
    writeFileSync(path.resolve(args.json), `${JSON.stringify(report, null, 2)}\n`);
    console.log(`\nwrote ${path.resolve(args.json)}`);
  }
} finally {
  for (const server of servers) await stopServer(server).catch(() => undefined);
  killAll('SIGKILL');
}
