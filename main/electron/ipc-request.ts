/**
 * What a page sends over IPC is whatever its structured clone holds, whatever the contract's types
 * say: handlers read it through this, field by field, and check each field before using it.
 */
export function fieldsOf(request: unknown): Readonly<Record<string, unknown>> {
  return typeof request === 'object' && request !== null && !Array.isArray(request) ? (request as Record<string, unknown>) : {};
}
