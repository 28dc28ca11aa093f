/**
 * deploy/kubernetes and deploy/docker, checked offline (no cluster, no Docker engine here):
 *
 * - every manifest against the Kubernetes API schemas: kubernetes-models (the OpenAPI schemas of
 *   Kubernetes 1.34 compiled to Ajv validators: types, required fields, enums, formats) and, for
 *   the custom resources, @kubernetes-models/prometheus-operator (PodMonitor, PrometheusRule) and
 *   @kubernetes-models/keda (ScaledObject), generated from those projects' CRD schemas. The schemas
 *   allow unknown fields, which the API server refuses (kubectl's strict field validation), so the
 *   same package's TypeScript declarations check every field name too: a typo such as
 *   `readinessProb` fails here, not at `kubectl apply`;
 * - the manifests agree with each other and with the service (ports, labels, the token Secret, the
 *   probes' endpoints, the grace period against serve's drain, the recording rule KEDA reads);
 * - the Dockerfiles with dockerfile-utils' linter (the Docker language server's), plus what the
 *   image must hold: the import graph of the CLI stays within the folders the image copies.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { createRequire } from 'node:module';
import { validate as lintDockerfile } from 'dockerfile-utils';
import ts from 'typescript';
import { REPO_ROOT } from '../support/shared-reference.ts';

/** js-yaml (a devDependency; it ships no type declarations), for the parts of deploy/ that are YAML. */
const yaml = createRequire(import.meta.url)('js-yaml') as {
  load(text: string): unknown;
  loadAll(text: string): unknown[];
  dump(value: unknown): string;
};

const K8S_DIR = path.join(REPO_ROOT, 'deploy', 'kubernetes');
const DOCKER_DIR = path.join(REPO_ROOT, 'deploy', 'docker');
const RULES_DIR = path.join(REPO_ROOT, 'deploy', 'rules');
const FLEET_RULES = path.join(RULES_DIR, 'ofa-ve-fleet.rules.yml');
/** Each PrometheusRule manifest and the rules file whose groups it carries word for word. */
const PROMETHEUS_RULES: Record<string, string> = {
  'prometheusrule-slo.yaml': 'ofa-ve-recording.rules.yml',
  'prometheusrule-alerts.yaml': 'ofa-ve-alerts.rules.yml',
  'prometheusrule-fleet.yaml': 'ofa-ve-fleet.rules.yml',
};

type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec?: unknown;
} & Record<string, unknown>;

interface KindSchema {
  /** The module that exports the model class and its interface. */
  module: string;
  /** The model class: `new Model(doc).validate()` throws on a schema violation. */
  load: () => Promise<new (data: never) => { validate(): void }>;
}

/** The API kinds the manifests may use, each with the package module holding its schema. */
const SCHEMAS: Record<string, KindSchema> = {
  'v1/Namespace': {
    module: 'kubernetes-models/v1/Namespace',
    load: async () => (await import('kubernetes-models/v1/Namespace')).Namespace,
  },
  'v1/Service': { module: 'kubernetes-models/v1/Service', load: async () => (await import('kubernetes-models/v1/Service')).Service },
  'v1/PersistentVolumeClaim': {
    module: 'kubernetes-models/v1/PersistentVolumeClaim',
    load: async () => (await import('kubernetes-models/v1/PersistentVolumeClaim')).PersistentVolumeClaim,
  },
  'apps/v1/Deployment': {
    module: 'kubernetes-models/apps/v1/Deployment',
    load: async () => (await import('kubernetes-models/apps/v1/Deployment')).Deployment,
  },
  'policy/v1/PodDisruptionBudget': {
    module: 'kubernetes-models/policy/v1/PodDisruptionBudget',
    load: async () => (await import('kubernetes-models/policy/v1/PodDisruptionBudget')).PodDisruptionBudget,
  },
  'monitoring.coreos.com/v1/PodMonitor': {
    module: '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor',
    load: async () => (await import('@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor')).PodMonitor,
  },
  'monitoring.coreos.com/v1/PrometheusRule': {
    module: '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule',
    load: async () => (await import('@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule')).PrometheusRule,
  },
  'keda.sh/v1alpha1/ScaledObject': {
    module: '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject',
    load: async () => (await import('@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject')).ScaledObject,
  },
};

const kindKey = (doc: { apiVersion?: unknown; kind?: unknown }): string => `${String(doc.apiVersion)}/${String(doc.kind)}`;

interface Kustomization {
  resources: string[];
  namespace: string;
  images: Array<{ name: string; newName: string; newTag: string }>;
}

const kustomization = yaml.load(readFileSync(path.join(K8S_DIR, 'kustomization.yaml'), 'utf8')) as Kustomization;

/** Every document of every resource kustomization.yaml lists, with its file. */
const manifests: Array<{ file: string; doc: Manifest }> = kustomization.resources.flatMap((file) =>
  yaml.loadAll(readFileSync(path.join(K8S_DIR, file), 'utf8')).map((doc: unknown) => ({ file, doc: doc as Manifest })),
);

function only(kind: string): Manifest {
  const found = manifests.filter((m) => m.doc.kind === kind);
  assert.equal(found.length, 1, `one ${kind}`);
  return found[0]!.doc;
}

/** Validates one document against its kind's schema; returns the error message, or undefined. */
async function schemaError(doc: Manifest): Promise<string | undefined> {
  const schema = SCHEMAS[kindKey(doc)];
  if (!schema) return `no schema for ${kindKey(doc)}`;
  const Model = await schema.load();
  try {
    new Model(structuredClone(doc) as never).validate();
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * Field names checked against the package's declared interfaces: each document becomes an object
 * literal `satisfies I<Kind>`, and TypeScript reports every property the type does not declare
 * (excess property checks reach nested literals), wrong literal types and missing required fields.
 * The program lives in memory, at a path inside the repository so that node_modules resolves.
 */
function fieldErrors(docs: Manifest[]): string[] {
  const file = path.join(K8S_DIR, '__manifest_fields__.ts');
  const imports = new Map<string, string>();
  const lines: string[] = [];
  docs.forEach((doc, i) => {
    const schema = SCHEMAS[kindKey(doc)];
    if (!schema) return;
    const type = `I${doc.kind}`;
    const alias = `${type}_${imports.size}`;
    if (!imports.has(schema.module)) imports.set(schema.module, `import type { ${type} as ${alias} } from '${schema.module}';`);
    const name = /as (\S+) }/.exec(imports.get(schema.module)!)![1];
    lines.push(`export const doc${i} = ${JSON.stringify(doc, null, 2)} satisfies ${name};`);
  });
  const source = [...imports.values(), ...lines].join('\n');
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, languageVersion, ...rest) =>
    path.resolve(name) === file ? ts.createSourceFile(name, source, languageVersion, true) : getSourceFile(name, languageVersion, ...rest);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => path.resolve(name) === file || fileExists(name);
  const program = ts.createProgram([file], options, host);
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const where = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : undefined;
    const line = where ? source.split('\n')[where.line]?.trim() : '';
    return `${ts.flattenDiagnosticMessageText(d.messageText, '\n')} (at ${line})`;
  });
}

describe('deploy/kubernetes: manifests against the Kubernetes API and CRD schemas', () => {
  it('kustomization.yaml lists every manifest in the folder, and each file exists', () => {
    const onDisk = readdirSync(K8S_DIR)
      .filter((name) => name.endsWith('.yaml') && name !== 'kustomization.yaml')
      .sort();
    assert.deepEqual([...kustomization.resources].sort(), onDisk);
    assert.equal(kustomization.namespace, 'ofa-ve');
    const kinds = manifests.map((m) => m.doc.kind).sort();
    const expected = [
      'Deployment',
      'Namespace',
      'PersistentVolumeClaim',
      'PodDisruptionBudget',
      'PodMonitor',
      'PrometheusRule',
      'PrometheusRule',
      'PrometheusRule',
      'ScaledObject',
    ];
    assert.deepEqual(kinds, [...expected, 'Service']);
  });

  it('every document validates against its schema (kubernetes-models, Kubernetes 1.34; Prometheus Operator and KEDA CRDs)', async () => {
    for (const { file, doc } of manifests) {
      assert.equal(await schemaError(doc), undefined, `${file}: ${kindKey(doc)} ${doc.metadata?.name}`);
    }
  });

  it('every field name is one the API declares (TypeScript excess property checks on the same models)', () => {
    assert.deepEqual(fieldErrors(manifests.map((m) => m.doc)), []);
  });

  it('the validators catch a wrong type, a wrong enum value and a misspelt field', async () => {
    const deployment = structuredClone(only('Deployment')) as Manifest & { spec: DeploymentSpec };
    const container = deployment.spec.template.spec.containers[0]!;
    const wrongType = structuredClone(deployment);
    wrongType.spec.template.spec.containers[0]!.ports[0]!.containerPort = '7860' as unknown as number;
    assert.match((await schemaError(wrongType)) ?? '', /containerPort must be integer/);
    const service = structuredClone(only('Service')) as Manifest & { spec: { ports: Array<{ protocol: string }> } };
    service.spec.ports[0]!.protocol = 'HTTP';
    assert.match((await schemaError(service)) ?? '', /protocol must be equal to one of the allowed values/);
    const scaled = structuredClone(only('ScaledObject')) as Manifest & { spec: { triggers: Array<{ metadata: Record<string, unknown> }> } };
    scaled.spec.triggers[0]!.metadata.threshold = 8;
    assert.match((await schemaError(scaled)) ?? '', /threshold must be string/);
    const misspelt = structuredClone(deployment);
    const renamed = misspelt.spec.template.spec.containers[0] as unknown as Record<string, unknown>;
    renamed.readinessProb = renamed.readinessProbe;
    delete renamed.readinessProbe;
    assert.equal(await schemaError(misspelt), undefined, 'the JSON schemas let an unknown field through');
    const errors = fieldErrors([misspelt]);
    assert.equal(errors.length, 1, errors.join('\n'));
    assert.match(errors[0]!, /'"?readinessProb"?' does not exist in type 'IContainer'/);
    assert.ok(container.readinessProbe, 'the original is untouched');
  });
});

interface Probe {
  httpGet?: { path: string; port: string | number };
  exec?: { command: string[] };
  periodSeconds?: number;
  timeoutSeconds?: number;
  failureThreshold?: number;
}

interface Container {
  name: string;
  image: string;
  args: string[];
  env: Array<{ name: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }>;
  ports: Array<{ name: string; containerPort: number }>;
  resources: { requests: Record<string, string | number>; limits: Record<string, string | number> };
  livenessProbe: Probe;
  readinessProbe: Probe;
  lifecycle: { preStop: { exec: { command: string[] } } };
  securityContext: { readOnlyRootFilesystem?: boolean };
  volumeMounts: Array<{ name: string; mountPath: string; readOnly?: boolean }>;
}

interface DeploymentSpec {
  selector: { matchLabels: Record<string, string> };
  template: {
    metadata: { labels: Record<string, string> };
    spec: {
      terminationGracePeriodSeconds: number;
      securityContext: { runAsNonRoot: boolean; runAsUser: number; runAsGroup: number };
      containers: Container[];
      volumes: Array<{ name: string }>;
    };
  };
}

/** How long `ofa-ve serve` takes to stop after SIGTERM at most: the drain it passes to runtime.close, read from the source. */
function serveDrainMs(): number {
  const source = readFileSync(path.join(REPO_ROOT, 'main', 'cli', 'serve-command.ts'), 'utf8');
  const drains = [...source.matchAll(/\.close\((\d[\d_]*)\)/g)].map((m) => Number(m[1]!.replaceAll('_', '')));
  assert.ok(drains.length > 0, 'serve-command.ts passes its drain to close(ms)');
  return Math.max(...drains);
}

/** The worker's stop after the drain: SIGTERM, then SIGKILL 2 s later (inference-worker-host.ts). */
const WORKER_STOP_MS = 2000;

describe('deploy/kubernetes: the manifests agree with each other and with the service', () => {
  const deployment = only('Deployment') as Manifest & { spec: DeploymentSpec };
  const pod = deployment.spec.template;
  const container = pod.spec.containers[0]!;
  const arg = (name: string): string | undefined => container.args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);

  it('runs the CUDA image on one GPU with --provider=cuda, reachable with the token from a Secret', () => {
    assert.equal(container.args[0], 'serve');
    assert.equal(arg('provider'), 'cuda');
    assert.equal(arg('host'), '0.0.0.0');
    assert.equal(container.resources.requests['nvidia.com/gpu'], 1);
    assert.equal(container.resources.limits['nvidia.com/gpu'], 1, 'extended resources need requests = limits');
    const image = kustomization.images.find((i) => i.name === container.image);
    assert.ok(image, `kustomization.yaml sets the image ${container.image}`);
    assert.match(image.newTag, /-cuda$/, 'the CUDA build (deploy/docker/Dockerfile.cuda)');
    const token = container.env.find((e) => e.name === 'OFA_VE_TOKEN');
    assert.deepEqual(token?.valueFrom?.secretKeyRef, { name: 'ofa-ve-token', key: 'token' });
    const modelMount = container.volumeMounts.find((m) => arg('model')?.startsWith(`${m.mountPath}/`));
    assert.ok(modelMount?.readOnly, `--model ${arg('model')} lies on a read-only mount`);
    assert.ok(pod.spec.volumes.some((v) => v.name === modelMount.name));
  });

  it('liveness on /healthz, readiness on /readyz (both public); the port is the one serve listens on', () => {
    const port = container.ports.find((p) => p.name === 'http');
    assert.equal(port?.containerPort, Number(arg('port')));
    assert.deepEqual(container.livenessProbe.httpGet, { path: '/healthz', port: 'http' });
    assert.deepEqual(container.readinessProbe.httpGet, { path: '/readyz', port: 'http' });
    // readiness reacts within seconds; liveness waits ~30 s before a restart
    assert.ok((container.readinessProbe.periodSeconds ?? 10) * (container.readinessProbe.failureThreshold ?? 3) <= 15);
    assert.ok((container.livenessProbe.periodSeconds ?? 10) * (container.livenessProbe.failureThreshold ?? 3) >= 30);
  });

  it("the grace period is longer than preStop + serve's drain + the worker's stop", () => {
    const preStop = container.lifecycle.preStop.exec.command;
    assert.equal(preStop[0], 'sleep');
    const preStopMs = Number(preStop[1]) * 1000;
    const needed = preStopMs + serveDrainMs() + WORKER_STOP_MS;
    assert.ok(
      pod.spec.terminationGracePeriodSeconds * 1000 > needed,
      `terminationGracePeriodSeconds ${pod.spec.terminationGracePeriodSeconds} s vs ${needed} ms`,
    );
  });

  it("runs as the image's non-root user, read-only root with /tmp writable", () => {
    assert.equal(pod.spec.securityContext.runAsNonRoot, true);
    for (const dockerfile of ['Dockerfile', 'Dockerfile.cuda']) {
      const text = readFileSync(path.join(DOCKER_DIR, dockerfile), 'utf8');
      assert.match(
        text,
        new RegExp(`^USER ${pod.spec.securityContext.runAsUser}:${pod.spec.securityContext.runAsGroup}$`, 'm'),
        dockerfile,
      );
    }
    assert.equal(container.securityContext.readOnlyRootFilesystem, true);
    assert.ok(
      container.volumeMounts.some((m) => m.mountPath === '/tmp' && !m.readOnly),
      'tsx writes its cache to /tmp',
    );
  });

  it("Service, PodMonitor and PodDisruptionBudget select the Deployment's pods on its port", () => {
    const labels = pod.metadata.labels;
    const selects = (selector: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v);
    assert.ok(selects(deployment.spec.selector.matchLabels), 'Deployment selector');
    const service = only('Service') as Manifest & { spec: { selector: Record<string, string>; ports: Array<{ targetPort: string }> } };
    assert.ok(selects(service.spec.selector), 'Service selector');
    assert.equal(service.spec.ports[0]?.targetPort, 'http');
    const pdb = only('PodDisruptionBudget') as Manifest & { spec: { selector: { matchLabels: Record<string, string> } } };
    assert.ok(selects(pdb.spec.selector.matchLabels), 'PodDisruptionBudget selector');
    const monitor = only('PodMonitor') as Manifest & {
      spec: {
        jobLabel: string;
        selector: { matchLabels: Record<string, string> };
        podMetricsEndpoints: Array<{
          port: string;
          path: string;
          authorization: { type: string; credentials: { name: string; key: string } };
        }>;
      };
    };
    assert.ok(selects(monitor.spec.selector.matchLabels), 'PodMonitor selector');
    const endpoint = monitor.spec.podMetricsEndpoints[0]!;
    assert.equal(endpoint.port, 'http');
    assert.equal(endpoint.path, '/metrics');
    assert.deepEqual(endpoint.authorization, { type: 'Bearer', credentials: { name: 'ofa-ve-token', key: 'token' } });
    // job = the pod label's value = the job the rules, dashboards and KEDA query use
    assert.equal(labels[monitor.spec.jobLabel], 'ofa-ve');
  });

  it('KEDA scales the Deployment on a fleet recording rule that the PrometheusRule deploys', () => {
    const scaled = only('ScaledObject') as Manifest & {
      spec: {
        scaleTargetRef: { name: string; kind: string };
        minReplicaCount: number;
        maxReplicaCount: number;
        triggers: Array<{ type: string; metricType: string; metadata: Record<string, string> }>;
      };
    };
    assert.equal(scaled.spec.scaleTargetRef.kind, 'Deployment');
    assert.equal(scaled.spec.scaleTargetRef.name, deployment.metadata.name);
    assert.ok(scaled.spec.minReplicaCount >= 2 && scaled.spec.maxReplicaCount > scaled.spec.minReplicaCount);
    const trigger = scaled.spec.triggers[0]!;
    assert.equal(trigger.type, 'prometheus');
    assert.equal(trigger.metricType, 'AverageValue', 'the fleet figure divided by the replicas');
    const record = /([a-z_]+:[a-z_0-9]+:[a-z_0-9]+)\{job="ofa-ve"\}/.exec(trigger.metadata.query ?? '')?.[1];
    assert.ok(record, `a recording rule in ${trigger.metadata.query}`);
    const rules = yaml.load(readFileSync(FLEET_RULES, 'utf8')) as { groups: Array<{ rules: Array<{ record?: string }> }> };
    assert.ok(
      rules.groups.some((g) => g.rules.some((r) => r.record === record)),
      `${record} in deploy/rules/ofa-ve-fleet.rules.yml`,
    );
    assert.ok(Number(trigger.metadata.threshold) > 0);
    assert.ok(
      Number(trigger.metadata.threshold) <= Number(arg('max-queue-size')),
      'the target is below the point where checks get 503 OVERLOADED',
    );
  });

  it('a PrometheusRule per rules file (SLO recording, alerts, fleet), each holding its groups unchanged', () => {
    const rules = manifests.filter((m) => m.doc.kind === 'PrometheusRule');
    assert.deepEqual(rules.map((m) => m.file).sort(), Object.keys(PROMETHEUS_RULES).sort());
    assert.deepEqual(
      [...new Set(listedRuleFiles())].sort(),
      Object.values(PROMETHEUS_RULES).sort(),
      'every rules file the Prometheus configs load is deployed with the Operator too',
    );
    const names = rules.map((m) => m.doc.metadata.name);
    assert.equal(new Set(names).size, names.length, `PrometheusRule names are unique: ${names.join(', ')}`);
    for (const { file, doc } of rules) {
      const source = yaml.load(readFileSync(path.join(RULES_DIR, PROMETHEUS_RULES[file]!), 'utf8')) as { groups: unknown };
      assert.deepEqual((doc as Manifest & { spec: { groups: unknown } }).spec.groups, source.groups, `${file} = ${PROMETHEUS_RULES[file]}`);
    }
  });

  it('the Operator gets the target-down alerts on the job the PodMonitor sets', () => {
    const alerts = manifests.find((m) => m.file === 'prometheusrule-alerts.yaml')!.doc as Manifest & {
      spec: { groups: Array<{ rules: Array<{ alert?: string; expr: string; labels?: Record<string, string> }> }> };
    };
    const rulesOf = (name: string) => alerts.spec.groups.flatMap((g) => g.rules).filter((r) => r.alert === name);
    const monitor = only('PodMonitor') as Manifest & { spec: { jobLabel: string } };
    const pod = (only('Deployment') as Manifest & { spec: DeploymentSpec }).spec.template;
    const job = pod.metadata.labels[monitor.spec.jobLabel];
    // OfaVeTargetDown: a ticket (warning) for every down target, a page (critical) as well with at least half the job's targets down
    const down = rulesOf('OfaVeTargetDown');
    assert.deepEqual(down.map((r) => r.labels?.severity).sort(), ['critical', 'warning']);
    for (const rule of down) {
      const selectors = rule.expr.match(/\bup\{[^}]*\}/g) ?? [];
      assert.ok(selectors.length > 0, `OfaVeTargetDown (${rule.labels?.severity}) reads up`);
      for (const selector of selectors) assert.equal(selector, `up{job="${job}"}`, `OfaVeTargetDown (${rule.labels?.severity})`);
      assert.match(rule.expr, new RegExp(`^\\(up\\{job="${job}"\\} == 0\\)`), 'one alert per down instance');
    }
    assert.deepEqual(
      rulesOf('OfaVeTargetAbsent').map((r) => r.expr),
      [`absent(up{job="${job}"})`],
    );
  });
});

/** The rule files deploy/kubernetes/prometheus-kubernetes-sd.yml (the cluster without the Operator) loads. */
function listedRuleFiles(): string[] {
  const config = yaml.load(readFileSync(path.join(K8S_DIR, 'prometheus-kubernetes-sd.yml'), 'utf8')) as { rule_files: string[] };
  return config.rule_files.map((f) => path.basename(f));
}

describe('deploy/docker: the Dockerfiles', () => {
  const read = (name: string) => readFileSync(path.join(DOCKER_DIR, name), 'utf8');
  const files = ['Dockerfile', 'Dockerfile.cuda'];

  it("pass dockerfile-utils' linter (and it does flag a broken one)", () => {
    for (const name of files) {
      const problems = lintDockerfile(read(name), {}).map((d) => `${name}:${d.range.start.line + 1}: ${d.message}`);
      assert.deepEqual(problems, []);
    }
    const broken = lintDockerfile('FROM node:20\nCOPY bin\nEXPOSE http\nHEALTHCHECK CMD\n', {}).map((d) => d.message);
    assert.deepEqual(broken, [
      'COPY requires at least two arguments',
      'Invalid containerPort: http',
      'Missing command after HEALTHCHECK CMD',
    ]);
  });

  it("CPU and CUDA differ only in base image, onnxruntime-node's install flag and --provider", () => {
    const cpu = read('Dockerfile');
    const cuda = read('Dockerfile.cuda');
    assert.match(cpu, /ONNXRUNTIME_NODE_INSTALL=skip/);
    assert.match(cuda, /ONNXRUNTIME_NODE_INSTALL=cuda12/);
    assert.match(cpu, /^CMD \["serve", "--host=0\.0\.0\.0", "--port=7860", "--provider=cpu"\]$/m);
    assert.match(cuda, /^CMD \["serve", "--host=0\.0\.0\.0", "--port=7860", "--provider=cuda"\]$/m);
    assert.match(
      cuda,
      /^ARG CUDA_IMAGE=nvidia\/cuda:12\.[\d.]+-cudnn-runtime-/m,
      "CUDA 12 with cuDNN (onnxruntime-node 1.30's CUDA 12 build)",
    );
    const steps = (text: string) =>
      text.split('\n').filter((l) => /^(COPY --from=build|ENTRYPOINT|EXPOSE|USER|WORKDIR|HEALTHCHECK|RUN npm)/.test(l));
    assert.deepEqual(steps(cuda), steps(cpu));
    const ignore = (name: string) =>
      read(name)
        .split('\n')
        .filter((l) => l && !l.startsWith('#'));
    assert.deepEqual(ignore('Dockerfile.cuda.dockerignore'), ignore('Dockerfile.dockerignore'));
  });

  it("the image holds everything `ofa-ve serve` imports: the CLI's import graph stays in the copied folders", () => {
    const cpu = read('Dockerfile');
    // COPY --from=build /src/a [/src/b ...] ./dest: every /src/ path the runtime stage takes
    const copied = cpu
      .split('\n')
      .filter((line) => line.startsWith('COPY --from=build '))
      .flatMap((line) => [...line.matchAll(/\/src\/(\S+)/g)].map((m) => m[1]!));
    const sources = copied.filter((p) => p !== 'node_modules' && !p.startsWith('out/'));
    const ignored = read('Dockerfile.dockerignore')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'));
    for (const dir of sources) assert.ok(!ignored.includes(dir), `${dir} is copied, so not in the .dockerignore`);
    assert.ok(copied.includes('out/renderer'), 'the browser UI from npm run build');
    const seen = new Set<string>();
    const queue = [path.join(REPO_ROOT, 'bin', 'ofa-ve.js')];
    while (queue.length > 0) {
      const file = queue.pop()!;
      if (seen.has(file)) continue;
      seen.add(file);
      const relative = path.relative(REPO_ROOT, file);
      assert.ok(
        sources.some((dir) => relative === dir || relative.startsWith(`${dir}/`)),
        `${relative} is imported by the CLI but not copied into the image`,
      );
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*|new URL\(\s*)'(\.{1,2}\/[^']+)'/g)) {
        const target = path.resolve(path.dirname(file), m[1]!);
        if (existsSync(target)) queue.push(target);
      }
    }
    assert.ok(seen.size > 50, `followed ${seen.size} files from bin/ofa-ve.js`);
  });
});
