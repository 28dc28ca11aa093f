/**
 * Reading `npm audit --json` (report version 2, npm 7 and later) and deciding what blocks: every
 * high or critical advisory on a production dependency, unless test/support/audit-reviewed.json
 * lists it (advisory id + package) with the reason it cannot be exploited here.
 */

export interface ReviewedAdvisory {
  /** GHSA id, e.g. "GHSA-xxxx-xxxx-xxxx" (or npm's numeric advisory source id as a string). */
  advisory: string;
  /** The vulnerable package the advisory is about. */
  package: string;
  /** One line: why it cannot be exploited in this app. */
  reason: string;
}

export interface ReviewedFile {
  $comment?: string;
  reviewed: ReviewedAdvisory[];
}

export interface Advisory {
  id: string;
  package: string;
  severity: string;
  title: string;
  url: string;
  range: string;
}

/** One entry of `via` in a report: an advisory object, or the name of a vulnerable dependency. */
type Via = string | { source?: number; name?: string; title?: string; url?: string; severity?: string; range?: string };

export interface AuditReport {
  auditReportVersion?: number;
  vulnerabilities?: Record<string, { name?: string; severity?: string; via?: Via[] }>;
  metadata?: { vulnerabilities?: Record<string, number> };
  error?: { code?: string; summary?: string; detail?: string };
  message?: string;
  statusCode?: number;
  code?: string;
}

const BLOCKING = new Set(['high', 'critical']);
/** npm's own error codes that mean "the audit service could not be asked", not "the project is wrong". */
const UNREACHABLE =
  /^(E\d{3}|ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH|ENETDOWN|EPROTO|ECONNABORTED|ERR_SOCKET_TIMEOUT)$/;

/**
 * Why the report carries no audit result, when it is an error rather than a report: `unreachable`
 * for the audit service being unavailable (skip), `failed` for anything else (fail).
 */
export function auditError(report: AuditReport): { kind: 'unreachable' | 'failed'; reason: string } | undefined {
  if (report.auditReportVersion !== undefined && report.vulnerabilities !== undefined) return undefined;
  const code = report.error?.code ?? report.code ?? (report.statusCode !== undefined ? `E${report.statusCode}` : undefined);
  const reason =
    [code, report.error?.summary || report.message, report.error?.detail].filter(Boolean).join(': ') || 'no audit report in the output';
  if (code !== undefined && UNREACHABLE.test(code)) return { kind: 'unreachable', reason };
  if (
    code === undefined &&
    /advisories\/bulk|security\/audits|audit endpoint|ECONN|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|network|socket|timed out/i.test(reason)
  ) {
    return { kind: 'unreachable', reason };
  }
  return { kind: 'failed', reason };
}

/** Every advisory in the report (deduplicated), each on the package it is about. */
export function advisories(report: AuditReport): Advisory[] {
  const found = new Map<string, Advisory>();
  for (const [name, vuln] of Object.entries(report.vulnerabilities ?? {})) {
    for (const via of vuln.via ?? []) {
      if (typeof via === 'string') continue; // "depends on a vulnerable <via>": reported under that package
      const url = via.url ?? '';
      const id = /GHSA(-[0-9a-z]{4}){3}/i.exec(url)?.[0] ?? String(via.source ?? url);
      const pkg = via.name ?? vuln.name ?? name;
      found.set(`${id} ${pkg}`, {
        id,
        package: pkg,
        severity: via.severity ?? vuln.severity ?? 'unknown',
        title: via.title ?? '',
        url,
        range: via.range ?? '',
      });
    }
  }
  return [...found.values()];
}

/** High and critical advisories not reviewed; reviewed entries that matched and that matched nothing. */
export function gate(
  report: AuditReport,
  reviewed: readonly ReviewedAdvisory[],
): { blocking: Advisory[]; accepted: Advisory[]; stale: ReviewedAdvisory[] } {
  const all = advisories(report);
  const isReviewed = (a: Advisory) => reviewed.find((r) => r.advisory.toLowerCase() === a.id.toLowerCase() && r.package === a.package);
  const serious = all.filter((a) => BLOCKING.has(a.severity));
  return {
    blocking: serious.filter((a) => !isReviewed(a)),
    accepted: serious.filter((a) => isReviewed(a)),
    stale: reviewed.filter((r) => !all.some((a) => r.advisory.toLowerCase() === a.id.toLowerCase() && r.package === a.package)),
  };
}

/** Problems with the reviewed list itself (each entry needs an id, a package and a real reason). */
export function reviewedFileProblems(file: ReviewedFile): string[] {
  const problems: string[] = [];
  if (!Array.isArray(file.reviewed)) return ['"reviewed" must be an array'];
  file.reviewed.forEach((r, i) => {
    if (!/^(GHSA(-[0-9a-z]{4}){3}|\d+)$/i.test(r.advisory ?? '')) problems.push(`entry ${i}: "advisory" must be a GHSA id`);
    if (!r.package) problems.push(`entry ${i}: "package" is missing`);
    if (typeof r.reason !== 'string' || r.reason.trim().length < 20)
      problems.push(`entry ${i}: "reason" must say, in a line, why it is not exploitable here`);
    if (typeof r.reason === 'string' && r.reason.includes('\n')) problems.push(`entry ${i}: "reason" must be one line`);
  });
  return problems;
}
