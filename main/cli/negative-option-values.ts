/** A value that is a negative number (`-1`, `-0.5`, `-.5`, `-1e3`), not an option. */
const NEGATIVE_NUMBER = /^-(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/**
 * `--port -1` as `--port=-1`. node's parseArgs takes a separate argument that starts with a dash
 * for an option, and refuses `--port -1` as "ambiguous"; joined, the value reaches the command, which
 * says what range it takes, as for `--port=-1`. Only long options followed by a negative number are
 * joined, and nothing after `--`. (An option that takes no value then says so.)
 */
export function joinNegativeOptionValues(argv: readonly string[]): string[] {
  const joined: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      joined.push(...argv.slice(i));
      break;
    }
    const next = argv[i + 1];
    if (arg.startsWith('--') && arg.length > 2 && !arg.includes('=') && next !== undefined && NEGATIVE_NUMBER.test(next)) {
      joined.push(`${arg}=${next}`);
      i++;
    } else {
      joined.push(arg);
    }
  }
  return joined;
}
