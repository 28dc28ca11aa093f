import path from 'node:path';

/**
 * Absolute file-system paths in a message, as its last component only: the HTTP API tells a
 * caller why the model is not ready ("model directory ofa-ve-demo: model.json: not found") without
 * telling an unauthenticated one where the server keeps its files. POSIX and Windows drive paths;
 * a lone "/" or one of this server's own URL paths ("/api/v1/check") is not one.
 */
const ABSOLUTE_PATH = /(^|[\s'"`(=[,])((?:[A-Za-z]:\\|\/)[^\s'"`()<>,;:]+)/g;
const OWN_URL_PATH = /^\/(api\/|healthz|readyz|metrics)/;

export function withoutServerPaths(message: string, knownDirs: readonly string[] = []): string {
  let out = message;
  // Known directories first, whole: a directory name may hold spaces the pattern would stop at.
  for (const dir of knownDirs) {
    if (dir && path.isAbsolute(dir)) out = out.split(dir).join(path.basename(dir) || '.');
  }
  return out.replace(ABSOLUTE_PATH, (whole, lead: string, found: string) =>
    OWN_URL_PATH.test(found) ? whole : `${lead}${path.win32.basename(found.replace(/[/\\]+$/, '')) || '.'}`,
  );
}
