import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Limits on what a caller may send; every one is configurable and each breach has its own code. */
export interface InputLimits {
  /** Bytes of one image file (IMAGE_TOO_LARGE beyond). */
  readonly maxImageBytes: number;
  /** width × height, read from the header before any pixel is decoded (IMAGE_TOO_LARGE beyond). */
  readonly maxImagePixels: number;
  /** UTF-8 bytes of a caption or premise before OFA's word cut (TEXT_TOO_LONG beyond). */
  readonly maxTextBytes: number;
}

export const DEFAULT_INPUT_LIMITS: InputLimits = {
  maxImageBytes: 20 * 1024 * 1024,
  maxImagePixels: 50_000_000,
  maxTextBytes: 16 * 1024,
};

/** The HTTP port of `ofa-ve serve` and of the desktop app's /metrics endpoint. */
export const DEFAULT_PORT = 7860;

/** What the API, the CLI and the status bar's tooltip say when the demo model answers: one text everywhere. */
export const DEMO_WARNING = 'the demo model is loaded: it has random weights, so its answers are not meaningful (see models/README.md)';

/** The project root: two levels up from this file in the source tree, or the packaged resources. */
function appRoot(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const candidate of [path.resolve(here, '..'), path.resolve(here, '..', '..')]) {
    if (existsSync(path.join(candidate, 'models', 'demo', 'model.json'))) return candidate;
  }
  return path.resolve(here, '..');
}

let version: string | undefined;

/** The app's version from package.json (read once): main/ in the source tree, out/main/ in a build. */
export function appVersion(): string {
  if (version) return version;
  const here = path.dirname(fileURLToPath(import.meta.url));
  version = '0.0.0';
  for (const candidate of [path.resolve(here, '..', 'package.json'), path.resolve(here, '..', '..', 'package.json')]) {
    try {
      version = (JSON.parse(readFileSync(candidate, 'utf8')) as { version?: string }).version ?? '0.0.0';
      break;
    } catch {
      // not here: try the next
    }
  }
  return version;
}

/** The bundled demo model, used when no --model is given. */
export function defaultModelDir(): string {
  const packaged = (process as { resourcesPath?: string }).resourcesPath;
  if (packaged && existsSync(path.join(packaged, 'models', 'demo', 'model.json'))) {
    return path.join(packaged, 'models', 'demo');
  }
  return path.join(appRoot(), 'models', 'demo');
}

/** The built React UI (`npm run build` writes it), served at / by `ofa-ve serve`. */
export function defaultUiDir(): string {
  return path.join(appRoot(), 'out', 'renderer');
}
