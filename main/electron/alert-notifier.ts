/**
 * Desktop notifications for the in-app alerts of the service the app uses: its own model or a
 * remote `ofa-ve serve`. Free of Electron imports (the Notification class is passed in), so unit
 * tests run it under plain Node (test/unit/electron/alert-notifier.test.ts) with a recording
 * presenter, fed real alert documents.
 *
 * An alert episode is its name and `active_since` (set when the rule turned pending, kept while it
 * fires), so each start is shown once however often the alerts are read, and a rule that resolves
 * and fires again is a new start. When an episode ends (inactive again, or a new episode) a
 * "resolved" notification follows. Muting keeps the bookkeeping and shows nothing.
 */
import { writeJsonAtomic } from './json-file.ts';
import { readFile } from 'node:fs/promises';
import { alertQuantityText } from '../../preload/quantity-format.ts';
import { CONNECTION_ERROR_CODES, type AlertStatus } from '../../preload/wire-types.ts';
import { ConnectionError, fetchRemote, readRemoteJson } from './remote-fetch.ts';

/** One notification, in the terms of Electron's NotificationConstructorOptions. */
export interface AlertNotification {
  title: string;
  body: string;
  /** Linux: critical ones stay until dismissed. */
  urgency: 'normal' | 'critical';
}

/** Shows a notification; `onClick` runs when the user clicks it. */
export interface NotificationPresenter {
  show(notification: AlertNotification, onClick: () => void): void;
}

/** Electron's Notification class, as far as the presenter uses it. */
export interface NotificationClass {
  isSupported(): boolean;
  new (options: AlertNotification): { on(event: 'click', listener: () => void): unknown; show(): void };
}

/**
 * The presenter for the app: Electron's Notification. The last few stay referenced, since a
 * notification object that is garbage-collected no longer reports its click.
 */
export function electronNotificationPresenter(Notification: NotificationClass, keep = 8): NotificationPresenter {
  const shown: unknown[] = [];
  return {
    show(notification, onClick) {
      if (!Notification.isSupported()) return;
      const n = new Notification(notification);
      n.on('click', onClick);
      n.show();
      shown.push(n);
      if (shown.length > keep) shown.shift();
    },
  };
}

export interface AlertNotifierOptions {
  /** Clicking any notification (the app focuses its window on the dashboard). */
  onClick(): void;
  muted?: boolean;
  now?: () => number;
}

interface Episode {
  readonly key: string;
  readonly alert: AlertStatus;
}

/** As the dashboard's alerts panel shows it (preload/quantity-format.ts). */
function formatValue(alert: AlertStatus, value: number | null): string {
  return value === null ? 'no traffic' : alertQuantityText(alert.name, value);
}

function clockTime(iso: string): string {
  const d = new Date(iso);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

function duration(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  return minutes < 1 ? 'under a minute' : minutes < 120 ? `${minutes} min` : `${(minutes / 60).toFixed(1)} h`;
}

/** Turns successive readings of the alerts of one service into one notification per start and end. */
export class AlertNotifier {
  /** Muted: readings are still followed (unmuting does not replay what started meanwhile), nothing is shown. */
  muted: boolean;
  private readonly firing = new Map<AlertStatus['name'], Episode>();
  private source: string | undefined;
  private readonly now: () => number;

  constructor(
    private readonly presenter: NotificationPresenter,
    private readonly options: AlertNotifierOptions,
  ) {
    this.muted = options.muted ?? false;
    this.now = options.now ?? Date.now;
  }

  /**
   * One reading of `source`'s alerts (its stats document's `alerts`). A different source than the
   * last reading's starts afresh: what fired on the previous service neither resolves nor repeats.
   * Returns the notifications it showed (or would have, when muted).
   */
  update(source: { key: string; label: string }, alerts: readonly AlertStatus[]): AlertNotification[] {
    if (source.key !== this.source) {
      this.source = source.key;
      this.firing.clear();
    }
    const out: AlertNotification[] = [];
    const seen = new Set<AlertStatus['name']>();
    for (const alert of alerts) {
      seen.add(alert.name);
      const previous = this.firing.get(alert.name);
      const key = `${alert.name}@${alert.active_since ?? ''}`;
      if (previous && (alert.state !== 'firing' || previous.key !== key)) {
        out.push(this.resolvedNotice(previous.alert, alert, source.label));
        this.firing.delete(alert.name);
      }
      if (alert.state === 'firing' && !this.firing.has(alert.name)) {
        this.firing.set(alert.name, { key, alert });
        out.push(this.firingNotice(alert, source.label));
      }
    }
    // A rule the service no longer reports (another version) has ended as far as anyone can tell.
    for (const [name, episode] of this.firing) {
      if (seen.has(name)) continue;
      out.push(this.resolvedNotice(episode.alert, undefined, source.label));
      this.firing.delete(name);
    }
    if (!this.muted) for (const notification of out) this.presenter.show(notification, this.options.onClick);
    return out;
  }

  private firingNotice(alert: AlertStatus, where: string): AlertNotification {
    const since = alert.active_since ? `, over the threshold since ${clockTime(alert.active_since)}` : '';
    return {
      title: `Alert firing: ${alert.name} (${where})`,
      body: `${alert.summary}. Now ${formatValue(alert, alert.value)} (threshold ${formatValue(alert, alert.threshold)})${since}.`,
      urgency: alert.severity === 'critical' ? 'critical' : 'normal',
    };
  }

  private resolvedNotice(started: AlertStatus, now: AlertStatus | undefined, where: string): AlertNotification {
    const lasted = started.active_since ? ` after ${duration(this.now() - Date.parse(started.active_since))}` : '';
    const value = now ? ` Now ${formatValue(now, now.value)}.` : '';
    return {
      title: `Alert resolved: ${started.name} (${where})`,
      body: `${started.summary}: back under the threshold${lasted}.${value}`,
      urgency: 'normal',
    };
  }
}

/** Where alerts are read from now; undefined while there is none (the local model is starting). */
export interface AlertSource {
  key: string;
  /** Shown in the notification: "local model" or the remote's host. */
  label: string;
  read(): Promise<readonly AlertStatus[]>;
}

/**
 * Reads the current source's alerts every `intervalMs` (and at once on `poke()`, e.g. when the
 * local evaluator fires) and hands them to the notifier. A failed read changes nothing (a
 * remote that stops answering has not resolved anything); each new failure message is reported once.
 */
export class AlertWatcher {
  private timer: NodeJS.Timeout | undefined;
  private reading: Promise<void> | undefined;
  private again = false;
  private lastError: string | undefined;

  constructor(
    private readonly notifier: AlertNotifier,
    private readonly source: () => AlertSource | undefined,
    private readonly options: { intervalMs: number; onError(message: string): void },
  ) {}

  start(): void {
    this.timer ??= setInterval(() => this.poke(), this.options.intervalMs);
    this.timer.unref();
    this.poke();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Reads now (after a read in progress, once). Resolves when done. */
  poke(): Promise<void> {
    if (this.reading) {
      this.again = true;
      return this.reading;
    }
    this.reading = this.readOnce().finally(() => {
      this.reading = undefined;
      if (this.again) {
        this.again = false;
        void this.poke();
      }
    });
    return this.reading;
  }

  private async readOnce(): Promise<void> {
    const source = this.source();
    if (!source) return;
    try {
      const alerts = await source.read();
      this.lastError = undefined;
      // The connection may have changed while the read was on its way.
      if (this.source()?.key === source.key) this.notifier.update(source, alerts);
    } catch (err) {
      const message = `alerts of ${source.label}: ${(err as Error).message}`;
      if (message !== this.lastError) this.options.onError(message);
      this.lastError = message;
    }
  }
}

function isAlertStatus(value: unknown): value is AlertStatus {
  const a = value as Partial<AlertStatus> | null;
  return (
    typeof a === 'object' &&
    a !== null &&
    (a.name === 'OfaVeHighLatencyP95' || a.name === 'OfaVeHighErrorRate') &&
    (a.state === 'inactive' || a.state === 'pending' || a.state === 'firing') &&
    typeof a.summary === 'string' &&
    typeof a.threshold === 'number' &&
    (a.value === null || typeof a.value === 'number') &&
    (a.active_since === null || typeof a.active_since === 'string')
  );
}

/**
 * The alerts of a remote `ofa-ve serve`, from its stats document (GET /api/v1/stats, the same the
 * dashboard polls). Rules this app does not know (a newer service) are left out.
 */
export async function readRemoteAlerts(url: string, token: string | undefined, timeoutMs = 5000): Promise<AlertStatus[]> {
  const host = new URL(url).host;
  // The shortest window: the alerts do not depend on it, and it is the cheapest document to build.
  const res = await fetchRemote(url, '/api/v1/stats?window=1', timeoutMs, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  if (res.status === 401) throw new ConnectionError('UNAUTHORIZED', `${host} refused the token`);
  const doc = (await readRemoteJson(res, host)) as { alerts?: unknown } | undefined;
  if (!res.ok || !Array.isArray(doc?.alerts)) {
    throw new ConnectionError(
      CONNECTION_ERROR_CODES.NOT_OFA_VE,
      `${host} answered /api/v1/stats with ${res.status}, not a stats document with alerts`,
    );
  }
  return doc.alerts.filter(isAlertStatus);
}

/** The mute setting, kept in the app's data folder (userData/notifications.json). */
export async function loadNotificationsMuted(file: string): Promise<boolean> {
  try {
    return (JSON.parse(await readFile(file, 'utf8')) as { muted?: unknown }).muted === true;
  } catch {
    return false; // no setting yet, or a damaged file: notifications on
  }
}

export async function saveNotificationsMuted(file: string, muted: boolean): Promise<void> {
  await writeJsonAtomic(file, { muted });
}
