import { EventEmitter } from 'node:events';
import { SEED_ALERT_THRESHOLDS, type AlertStatus } from '../../preload/wire-types.ts';
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
 * The seed's two rules as deploy/rules/ofa-ve-alerts.rules.yml states them, evaluated in the app
 * over its own live stats so the console can show them without a Prometheus. The error rate is the
 * deploy rule's: 5xx over every check but the 4xx (`status_code=~"5.."` / `status_code!~"4.."`),
 * the same ratio as the stats document's error_rate.
 */
export const IN_APP_ALERT_RULES: readonly AlertRule[] = [
  {
    name: 'OfaVeHighLatencyP95',
    severity: 'warning',
    summary: 'P95 latency over 5 min above 2 s, for 5 min',
    threshold: SEED_ALERT_THRESHOLDS.OfaVeHighLatencyP95,
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
    summary: 'server errors (5xx) over 5 min above 3% of the checks run (4xx left out), for 3 min',
    threshold: SEED_ALERT_THRESHOLDS.OfaVeHighErrorRate,
    windowS: 300,
    forS: 180,
    // 4xx are the client's mistakes: left out of both sides, so they neither fire this nor dilute a real outage.
    // Only 4xx in the window: 0 (the deploy recording rule's `or 0`); no traffic at all: null.
    value(stats) {
      const { requests, clientErrors, serverErrors } = stats.summary(this.windowS, []);
      if (requests === 0) return null;
      const ran = requests - clientErrors;
      return ran > 0 ? serverErrors / ran : 0;
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
