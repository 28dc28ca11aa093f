import { EventEmitter } from 'node:events';
import type { AlertStatus } from '../../preload/wire-types.ts';
import type { LiveStats } from './live-stats.ts';

interface AlertRule {
  readonly name: AlertStatus['name'];
  readonly severity: AlertStatus['severity'];
  readonly summary: string;
  readonly threshold: number;
  /** The range of the rule's rate() (seconds). */
  readonly windowS: number;
  /** The rule's `for:` (seconds the condition must hold before it fires). */
  readonly forS: number;
  /** The value compared with the threshold; null when there is no traffic (Prometheus: NaN, no alert). */
  value(stats: LiveStats): number | null;
}

/**
 * The seed's two rules exactly as deploy/rules/ofa-ve-alerts.rules.yml states them, evaluated in
 * the app over its own live stats so the console can show them without a Prometheus.
 */
export const IN_APP_ALERT_RULES: readonly AlertRule[] = [
  {
    name: 'OfaVeHighLatencyP95',
    severity: 'warning',
    summary: 'P95 latency over 5 min above 2 s, for 5 min',
    threshold: 2,
    windowS: 300,
    forS: 300,
    value(stats) {
      const p95 = stats.summary(this.windowS, [0.95]).latencyMs[0];
      return p95 === null || p95 === undefined ? null : p95 / 1000;
    },
  },
  {
    name: 'OfaVeHighErrorRate',
    severity: 'critical',
    summary: 'error rate (non-200) over 5 min above 3%, for 3 min',
    threshold: 0.03,
    windowS: 300,
    forS: 180,
    value(stats) {
      const { requests, errors } = stats.summary(this.windowS, []);
      return requests > 0 ? errors / requests : null;
    },
  },
];

interface RuleState {
  state: AlertStatus['state'];
  since: number | undefined;
  value: number | null;
}

/**
 * Prometheus' alerting state machine: inactive -> pending when the condition first holds,
 * pending -> firing once it has held for `for`, back to inactive as soon as it does not.
 * Emits 'firing' and 'resolved' with the AlertStatus on each transition.
 */
export class AlertEvaluator extends EventEmitter {
  private readonly states: RuleState[];

  constructor(
    private readonly stats: LiveStats,
    private readonly rules: readonly AlertRule[] = IN_APP_ALERT_RULES,
    private readonly now: () => number = Date.now,
  ) {
    super();
    this.states = rules.map(() => ({ state: 'inactive', since: undefined, value: null }));
  }

  evaluate(): AlertStatus[] {
    const now = this.now();
    this.rules.forEach((rule, i) => {
      const s = this.states[i]!;
      const value = rule.value(this.stats);
      const wasFiring = s.state === 'firing';
      s.value = value;
      if (value === null || !(value > rule.threshold)) {
        s.state = 'inactive';
        s.since = undefined;
        if (wasFiring) this.emit('resolved', this.status(i));
        return;
      }
      if (s.state === 'inactive') {
        s.state = 'pending';
        s.since = now;
      }
      if (s.state === 'pending' && now - (s.since ?? now) >= rule.forS * 1000) {
        s.state = 'firing';
        this.emit('firing', this.status(i));
      }
    });
    return this.current();
  }

  /** The states as of the last evaluate(). */
  current(): AlertStatus[] {
    return this.rules.map((_, i) => this.status(i));
  }

  private status(i: number): AlertStatus {
    const rule = this.rules[i]!;
    const s = this.states[i]!;
    return {
      name: rule.name,
      severity: rule.severity,
      state: s.state,
      summary: rule.summary,
      value: s.value,
      threshold: rule.threshold,
      active_since: s.since === undefined ? null : new Date(s.since).toISOString(),
    };
  }
}
