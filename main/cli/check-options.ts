/**
 * The options `ofa-ve check` and `ofa-ve check --batch` both take, with the same meaning (CHECK_USAGE
 * in check-command.ts); each command adds its own to these.
 */
export const CHECK_OPTIONS = {
  premise: { type: 'string' },
  model: { type: 'string' },
  provider: { type: 'string' },
  json: { type: 'boolean', default: false },
} as const;
