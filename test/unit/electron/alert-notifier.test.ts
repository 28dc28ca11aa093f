/**
 * Desktop notifications for alerts (main/electron/alert-notifier.ts) under plain Node: alert
 * documents from the real AlertEvaluator over real LiveStats (on a test clock, since the rules
 * wait 3 to 5 minutes before firing) read every second as a poll would, into a presenter that
 * records what it is asked to show; the remote reader against a real service over HTTP; and the
 * mute setting's file.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  AlertNotifier,
  AlertWatcher,
  electronNotificationPresenter,
  loadNotificationsMuted,
  readRemoteAlerts,
  saveNotificationsMuted,
  type AlertNotification,
  type NotificationPresenter,
} from '../../../main/electron/alert-notifier.ts';
import { ConnectionError } from '../../../main/electron/remote-fetch.ts';
import { silentLogger } from '../../../main/logging/json-logger.ts';
import { OfaVeHttpServer } from '../../../main/server/http-server.ts';
import { ServiceRuntime } from '../../../main/service/service-runtime.ts';
import { AlertEvaluator } from '../../../main/telemetry/alert-evaluator.ts';
import { LiveStats } from '../../../main/telemetry/live-stats.ts';
import type { AlertStatus } from '../../../preload/wire-types.ts';
import { DEMO_MODEL_DIR } from '../../support/shared-reference.ts';

const T0 = 1_800_000_000_000;
const LOCAL = { key: 'local', label: 'local model' };

/** The NotificationPresenter the app gets from Electron, recording instead of drawing. */
function recordingPresenter() {
  const shown: AlertNotification[] = [];
  const clicks: (() => void)[] = [];
  const presenter: NotificationPresenter = {
    show(notification, onClick) {
      shown.push(notification);
      clicks.push(onClick);
    },
  };
  return { presenter, shown, clicks, titles: () => shown.map((n) => n.title) };
}

/** Real stats and evaluator on a test clock; `run` sends traffic second by second and polls the notifier each second. */
function rig(muted = false) {
  let now = T0;
  const stats = new LiveStats({ now: () => now });
  const evaluator = new AlertEvaluator(stats, undefined, () => now);
  const recorder = recordingPresenter();
  let clicked = 0;
  const notifier = new AlertNotifier(recorder.presenter, { onClick: () => clicked++, muted, now: () => now });
  let n = 0;
  let polls = 0;
  /** `seconds` of `perSecond` checks, `errors` of them 500s, the rest answered in `latencyMs`. */
  const run = (seconds: number, perSecond: number, errors: number, latencyMs = 50, source = LOCAL) => {
    for (let s = 0; s < seconds; s++) {
      for (let i = 0; i < perSecond; i++) {
        const statusCode = i < errors ? 500 : 200;
        stats.record({ id: `r${n++}`, endedAtMs: now, latencyMs, statusCode, resultType: statusCode === 200 ? 'YES' : 'ERROR' });
      }
      // The service evaluates once a second; the app reads the document (here: every second too).
      notifier.update(source, JSON.parse(JSON.stringify(evaluator.evaluate())) as AlertStatus[]);
      polls++;
      now += 1000;
    }
  };
  return { run, notifier, evaluator, recorder, clicks: () => clicked, polls: () => polls };
}

describe('AlertNotifier with the real alert evaluator', () => {
  it('shows one notification per alert start, not per reading, and one when it resolves', () => {
    const { run, recorder, polls, evaluator } = rig();
    run(60, 10, 0);
    assert.equal(recorder.shown.length, 0, 'nothing while all is well');
    run(230, 10, 1); // 10% server errors: pending once over 3% (about 26 s), firing 3 minutes later
    assert.equal(evaluator.current().find((a) => a.name === 'OfaVeHighErrorRate')?.state, 'firing');
    run(120, 10, 1); // still firing for two more minutes of readings
    assert.ok(polls() > 300);
    assert.deepEqual(recorder.titles(), ['Alert firing: OfaVeHighErrorRate (local model)']);
    const [firing] = recorder.shown;
    assert.equal(firing!.urgency, 'critical', 'the error-rate rule is critical');
    assert.match(
      firing!.body,
      /^server errors \(5xx\) over 5 min above 3% .*\. Now \d+\.\d\d% \(threshold 3\.00%\), over the threshold since \d\d:\d\d\.$/,
    );

    run(400, 10, 0); // clean traffic: the errors leave the 5-minute window
    assert.deepEqual(recorder.titles(), [
      'Alert firing: OfaVeHighErrorRate (local model)',
      'Alert resolved: OfaVeHighErrorRate (local model)',
    ]);
    assert.equal(recorder.shown[1]!.urgency, 'normal');
    assert.match(recorder.shown[1]!.body, /back under the threshold after \d+ min\. Now \d+\.\d\d%\.$/);
    run(60, 10, 0);
    assert.equal(recorder.shown.length, 2, 'resolved is shown once too');

    run(300, 10, 1); // a second episode is a new start
    assert.deepEqual(recorder.titles().slice(2), ['Alert firing: OfaVeHighErrorRate (local model)']);
  });

  it('formats the latency rule in seconds with warning urgency, and a click reaches the app', () => {
    const { run, recorder, clicks } = rig();
    run(330, 5, 0, 2500); // P95 2.5 s > 2 s for 5 minutes
    assert.deepEqual(recorder.titles(), ['Alert firing: OfaVeHighLatencyP95 (local model)']);
    assert.equal(recorder.shown[0]!.urgency, 'normal');
    assert.match(recorder.shown[0]!.body, /Now 2\.\d\d s \(threshold 2\.00 s\)/);
    recorder.clicks[0]!();
    assert.equal(clicks(), 1);
  });

  it('muted: shows nothing, and unmuting does not replay an alert that started meanwhile', () => {
    const { run, recorder, notifier } = rig(true);
    run(260, 10, 1);
    assert.equal(recorder.shown.length, 0);
    notifier.muted = false;
    run(30, 10, 1);
    assert.equal(recorder.shown.length, 0, 'still the same episode');
    run(400, 10, 0);
    assert.deepEqual(recorder.titles(), ['Alert resolved: OfaVeHighErrorRate (local model)']);
  });

  it('a reading from another source starts afresh: no resolved for the old one, a firing one there is shown', () => {
    const { run, recorder, notifier, evaluator } = rig();
    run(260, 10, 1);
    assert.equal(recorder.shown.length, 1);
    const remote = { key: 'https://gpu-box.example', label: 'gpu-box.example' };
    const quiet = evaluator.current().map((a) => ({ ...a, state: 'inactive' as const, active_since: null }));
    notifier.update(remote, quiet);
    assert.equal(recorder.shown.length, 1, 'switching is not a resolution');
    notifier.update(LOCAL, evaluator.current());
    assert.deepEqual(recorder.titles(), [
      'Alert firing: OfaVeHighErrorRate (local model)',
      'Alert firing: OfaVeHighErrorRate (local model)',
    ]);
    run(2, 10, 1);
    assert.equal(recorder.shown.length, 2);
  });

  it('a new episode seen without the inactive reading between (a missed poll) resolves the old one and shows the new', () => {
    const { recorder, notifier, evaluator } = rig();
    const base = evaluator.current()[1]!;
    const episode = (since: string): AlertStatus => ({ ...base, state: 'firing', value: 0.2, active_since: since });
    notifier.update(LOCAL, [episode('2027-01-15T10:00:00.000Z')]);
    notifier.update(LOCAL, [episode('2027-01-15T10:00:00.000Z')]);
    notifier.update(LOCAL, [episode('2027-01-15T10:20:00.000Z')]);
    assert.deepEqual(recorder.titles(), [
      'Alert firing: OfaVeHighErrorRate (local model)',
      'Alert resolved: OfaVeHighErrorRate (local model)',
      'Alert firing: OfaVeHighErrorRate (local model)',
    ]);
    notifier.update(LOCAL, []);
    assert.equal(recorder.titles()[3], 'Alert resolved: OfaVeHighErrorRate (local model)', 'a rule no longer reported has ended');
  });
});

describe('electronNotificationPresenter', () => {
  it('shows through the Notification class, wires the click, and does nothing where notifications are unsupported', () => {
    const made: { options: AlertNotification; shown: boolean; click?: () => void }[] = [];
    let supported = true;
    class RecordingNotification {
      static isSupported = () => supported;
      private readonly record: (typeof made)[number];
      constructor(options: AlertNotification) {
        this.record = { options, shown: false };
        made.push(this.record);
      }
      on(_event: 'click', listener: () => void) {
        this.record.click = listener;
        return this;
      }
      show() {
        this.record.shown = true;
      }
    }
    const presenter = electronNotificationPresenter(RecordingNotification);
    let clicked = 0;
    const notice: AlertNotification = { title: 't', body: 'b', urgency: 'critical' };
    presenter.show(notice, () => clicked++);
    assert.equal(made.length, 1);
    assert.deepEqual(made[0]!.options, notice);
    assert.equal(made[0]!.shown, true);
    made[0]!.click!();
    assert.equal(clicked, 1);
    supported = false;
    presenter.show(notice, () => clicked++);
    assert.equal(made.length, 1);
  });
});

describe('remote alerts over HTTP (a real service)', () => {
  const TOKEN = 'alert-notifier-token';
  let runtime: ServiceRuntime;
  let server: OfaVeHttpServer;
  let url: string;
  let closedUrl: string;

  before(async () => {
    runtime = new ServiceRuntime({ modelDir: DEMO_MODEL_DIR, provider: 'cpu', logger: silentLogger });
    assert.ok(await runtime.start());
    const limits = runtime.limits;
    server = new OfaVeHttpServer(runtime, {
      token: TOKEN,
      logger: silentLogger,
      bodyLimits: { maxBodyBytes: 8 * 1024 * 1024, maxImageBytes: limits.maxImageBytes, maxFieldBytes: limits.maxTextBytes },
    });
    url = `http://127.0.0.1:${(await server.listen(0, '127.0.0.1')).port}`;
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    closedUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
  });
  after(async () => {
    await server?.close();
    await runtime?.close(2000);
  });

  it('reads the alerts of the stats document, as the service evaluates them', async () => {
    const alerts = await readRemoteAlerts(url, TOKEN);
    runtime.alerts.evaluate();
    assert.deepEqual(
      alerts.map((a) => [a.name, a.state]),
      runtime.alerts.current().map((a) => [a.name, a.state]),
    );
    assert.deepEqual(alerts.map((a) => a.name).sort(), ['OfaVeHighErrorRate', 'OfaVeHighLatencyP95']);
  });

  it('says why when it cannot: token refused, nothing listening', async () => {
    const fails = async (promise: Promise<unknown>, code: string, message: RegExp) =>
      assert.rejects(promise, (err: unknown) => err instanceof ConnectionError && err.code === code && message.test(err.message));
    await fails(readRemoteAlerts(url, 'wrong'), 'UNAUTHORIZED', /refused the token/);
    await fails(readRemoteAlerts(url, undefined), 'UNAUTHORIZED', /refused the token/);
    await fails(readRemoteAlerts(closedUrl, TOKEN), 'SERVICE_UNAVAILABLE', /cannot reach 127\.0\.0\.1:\d+: ECONNREFUSED/);
  });

  it('does not follow a redirect to another service with the token: NOT_OFA_VE naming where it points', async () => {
    const seen: string[] = [];
    // A 307 to the real service on another host name: the same document there, but not the address the user gave.
    const redirecting = http.createServer((req, res) => {
      seen.push(req.url ?? '');
      res.writeHead(307, { location: `${url.replace('127.0.0.1', 'localhost')}${req.url}` }).end();
    });
    await new Promise<void>((resolve) => redirecting.listen(0, '127.0.0.1', resolve));
    const redirectingUrl = `http://127.0.0.1:${(redirecting.address() as AddressInfo).port}`;
    try {
      const target = url.replace('127.0.0.1', 'localhost').replace(/\./g, '\\.');
      await assert.rejects(readRemoteAlerts(redirectingUrl, TOKEN), {
        name: 'ConnectionError',
        code: 'NOT_OFA_VE',
        message: new RegExp(`redirects to ${target}: connect to that address$`),
      });
      assert.deepEqual(seen, ['/api/v1/stats?window=1']);
    } finally {
      await new Promise<void>((resolve) => redirecting.close(() => resolve()));
    }
  });

  it('the watcher hands each reading to the notifier and reports a failing source once per message', async () => {
    const recorder = recordingPresenter();
    const notifier = new AlertNotifier(recorder.presenter, { onClick: () => {} });
    const readings: AlertStatus[][] = [];
    const errors: string[] = [];
    let target = { url, token: TOKEN as string | undefined };
    const watcher = new AlertWatcher(
      notifier,
      () => ({
        key: target.url,
        label: new URL(target.url).host,
        read: async () => {
          const alerts = await readRemoteAlerts(target.url, target.token);
          readings.push(alerts);
          return alerts;
        },
      }),
      { intervalMs: 60_000, onError: (message) => errors.push(message) },
    );
    await watcher.poke();
    await watcher.poke();
    assert.equal(readings.length, 2);
    assert.equal(recorder.shown.length, 0, 'an idle service fires nothing');
    target = { url, token: 'wrong' };
    await watcher.poke();
    await watcher.poke();
    target = { url: closedUrl, token: TOKEN };
    await watcher.poke();
    assert.equal(errors.length, 2, errors.join('\n'));
    assert.match(errors[0]!, /^alerts of 127\.0\.0\.1:\d+: 127\.0\.0\.1:\d+ refused the token$/);
    assert.match(errors[1]!, /cannot reach/);
    watcher.stop();
  });
});

describe('the mute setting (userData/notifications.json)', () => {
  let dir: string;
  before(async () => (dir = await mkdtemp(path.join(tmpdir(), 'ofa-ve-notify-'))));
  after(async () => rm(dir, { recursive: true, force: true }));

  it('is off by default, kept across runs, and a damaged file means on', async () => {
    const file = path.join(dir, 'sub', 'notifications.json');
    assert.equal(await loadNotificationsMuted(file), false);
    await saveNotificationsMuted(file, true);
    assert.equal(await loadNotificationsMuted(file), true);
    await saveNotificationsMuted(file, false);
    assert.equal(await loadNotificationsMuted(file), false);
    await writeFile(file, '{"muted": tr');
    assert.equal(await loadNotificationsMuted(file), false);
  });
});
