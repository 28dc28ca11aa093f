/**
 * electron-builder.yml (`npm run dist`): the packaging can only run where Electron's binary can be
 * downloaded, so these checks catch a broken config without packaging: it passes electron-builder's
 * own schema, ships the demo model where main/config.ts looks for it in a packaged app
 * (process.resourcesPath/models/demo), every icon it names exists at a usable size, the native
 * modules are unpacked from the asar, and the app files are the electron-vite output.
 *
 * The YAML parser, electron-builder's validator and its glob matcher are electron-builder's own
 * (js-yaml from the project root, app-builder-lib and minimatch resolved through electron-builder).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from '../support/shared-reference.ts';

const CONFIG_FILE = path.join(REPO_ROOT, 'electron-builder.yml');
const requireFromRoot = createRequire(path.join(REPO_ROOT, 'package.json'));

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

interface FileSet {
  from?: string;
  to?: string;
  filter?: string | string[];
}

function loadYaml(text: string): unknown {
  let yaml: { load(source: string, options?: { filename?: string }): unknown };
  try {
    yaml = requireFromRoot('js-yaml') as typeof yaml;
  } catch {
    assert.fail('js-yaml is not resolvable from the project root (it comes with electron-builder): add it as a devDependency');
  }
  return yaml.load(text, { filename: CONFIG_FILE });
}

const config = loadYaml(readFileSync(CONFIG_FILE, 'utf8')) as JsonObject;

/** app-builder-lib (electron-builder's engine), resolved the way electron-builder itself resolves it. */
const requireFromBuilder = createRequire(createRequire(path.join(REPO_ROOT, 'package.json')).resolve('electron-builder/package.json'));
const requireFromBuilderLib = createRequire(requireFromBuilder.resolve('app-builder-lib/package.json'));

interface MinimatchLike {
  negate: boolean;
  match(file: string): boolean;
}
const { Minimatch } = requireFromBuilderLib('minimatch') as {
  Minimatch: new (pattern: string, options: { dot: boolean }) => MinimatchLike;
};

function asObject(value: Json | undefined, where: string): JsonObject {
  assert.ok(value !== null && typeof value === 'object' && !Array.isArray(value), `${where} must be a mapping`);
  return value;
}

function stringList(value: Json | undefined, where: string): string[] {
  const list = Array.isArray(value) ? value : value === undefined || value === null ? [] : [value];
  return list.map((item, i) => {
    assert.equal(typeof item, 'string', `${where}[${i}] must be a string`);
    return item as string;
  });
}

/**
 * Whether `file` (relative to the project) passes a pattern list the way electron-builder's filter
 * does (app-builder-lib util/filter.js minimatchAll): patterns in order, a "!" pattern excludes.
 * Production node_modules are matched against "**\/*" plus the list's patterns.
 */
function includedBy(patterns: string[], file: string, macros: Record<string, string> = {}): boolean {
  let match = false;
  for (const raw of patterns) {
    const pattern = new Minimatch(
      raw.replace(/\$\{(\w+)\}/g, (whole, name: string) => macros[name] ?? whole),
      { dot: true },
    );
    if (match !== pattern.negate) continue;
    match = pattern.match(file);
  }
  return match;
}

/** Width and height from a PNG's IHDR chunk (what electron-builder reads too). */
function pngSize(file: string): { width: number; height: number } {
  const buf = readFileSync(file);
  assert.ok(buf.length >= 24 && buf.toString('latin1', 1, 4) === 'PNG', `${path.relative(REPO_ROOT, file)} is not a PNG`);
  return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
}

const BUILD_RESOURCES = path.join(REPO_ROOT, String(asObject(config.directories, 'directories').buildResources ?? 'build'));

/** Icon paths are looked up in buildResources first, then in the project directory. */
function resolveResource(relative: string): string | undefined {
  return [path.join(BUILD_RESOURCES, relative), path.join(REPO_ROOT, relative)].find((candidate) => existsSync(candidate));
}

describe('electron-builder.yml', () => {
  it("passes electron-builder's own configuration schema", async () => {
    const { validateConfiguration } = requireFromBuilderLib('./out/util/config/config.js') as {
      validateConfiguration(config: unknown, debugLogger: unknown): Promise<void>;
    };
    const { DebugLogger } = requireFromBuilderLib('builder-util') as { DebugLogger: new (enabled: boolean) => unknown };
    await validateConfiguration(structuredClone(config), new DebugLogger(false));
  });

  it('names the app and writes to dist/ with resources from build/', () => {
    assert.equal(config.appId, 'io.ofave.console');
    assert.equal(config.productName, 'OFA-VE Console');
    const directories = asObject(config.directories, 'directories');
    assert.equal(directories.output, 'dist');
    assert.equal(directories.buildResources, 'build');
  });

  it('packs the electron-vite output (out/) and package.json, and no sources or tests', () => {
    const files = stringList(config.files, 'files');
    const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { main: string };
    for (const file of [pkg.main, 'out/main/inference-worker.js', 'out/preload/index.cjs', 'out/renderer/index.html', 'package.json']) {
      assert.ok(includedBy(files, file), `files does not include ${file}`);
    }
    assert.ok(pkg.main.startsWith('out/'), `package.json "main" (${pkg.main}) must point into out/`);
    for (const file of [
      'main/electron/electron-main.ts',
      'preload/index.ts',
      'renderer/main.tsx',
      'test/unit/demo-model.test.ts',
      'bench/x.ts',
      'models/demo/model.onnx',
      'out/main/index.js.map',
    ]) {
      assert.ok(!includedBy(files, file), `files includes ${file}`);
    }
    // A platform-level "files" list replaces the top-level one in electron-builder 26 (the whole
    // project directory then lands in the asar), so all patterns live at the top level.
    for (const platform of ['linux', 'mac', 'win']) {
      if (config[platform] === undefined) continue;
      assert.equal(asObject(config[platform], platform).files, undefined, `${platform}.files would replace the top-level files list`);
    }
  });

  it('keeps only the target platform of onnxruntime-node and drops the CLI-only tsx', () => {
    const files = stringList(config.files, 'files');
    const linuxX64 = { platform: 'linux', arch: 'x64' };
    const ort = 'node_modules/onnxruntime-node/bin/napi-v6';
    assert.ok(
      includedBy(['**/*', ...files], `${ort}/linux/x64/onnxruntime_binding.node`, linuxX64),
      'a linux x64 package would lack its onnxruntime binding',
    );
    for (const other of [
      'darwin/arm64/onnxruntime_binding.node',
      'win32/x64/onnxruntime_binding.node',
      'linux/arm64/onnxruntime_binding.node',
    ]) {
      assert.ok(!includedBy(['**/*', ...files], `${ort}/${other}`, linuxX64), `a linux x64 package would carry ${other}`);
    }
    assert.ok(!includedBy(['**/*', ...files], 'node_modules/esbuild/bin/esbuild'), 'esbuild (under tsx, CLI only) would be packed');
  });

  it('unpacks the native modules (onnxruntime-node, sharp and its @img binaries) from the asar', () => {
    const unpack = stringList(config.asarUnpack, 'asarUnpack');
    for (const file of [
      'node_modules/onnxruntime-node/bin/napi-v6/linux/x64/onnxruntime_binding.node',
      'node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1',
      'node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so',
      'node_modules/onnxruntime-node/dist/binding.js',
      'node_modules/sharp/lib/index.js',
      'node_modules/@img/sharp-linux-x64/lib/sharp-linux-x64.node',
      'node_modules/@img/sharp-libvips-linux-x64/lib/libvips-cpp.so.42',
    ]) {
      assert.ok(includedBy(unpack, file), `asarUnpack does not cover ${file}`);
    }
    // And every native file actually installed here.
    const installed: string[] = [];
    for (const dir of ['onnxruntime-node', 'sharp', '@img']) {
      const root = path.join(REPO_ROOT, 'node_modules', dir);
      if (!existsSync(root)) continue;
      for (const entry of readdirSync(root, { recursive: true, withFileTypes: true })) {
        if (entry.isFile() && /\.(node|so(\.\d+)*|dylib|dll)$/.test(entry.name)) {
          installed.push(path.relative(REPO_ROOT, path.join(entry.parentPath, entry.name)).split(path.sep).join('/'));
        }
      }
    }
    assert.ok(installed.length > 0, 'no native files found under node_modules (is npm ci done?)');
    assert.deepEqual(
      installed.filter((file) => !includedBy(unpack, file)),
      [],
      'native files left inside the asar',
    );
  });

  it('ships the demo model as resources/models/demo, complete', () => {
    const entries = (Array.isArray(config.extraResources) ? config.extraResources : [config.extraResources]) as (FileSet | string)[];
    const model = entries.find((e): e is FileSet => typeof e === 'object' && e !== null && e.to === 'models/demo');
    assert.ok(model, 'extraResources has no entry with to: models/demo (main/config.ts looks in process.resourcesPath/models/demo)');
    assert.ok(model.from, 'the models/demo extraResources entry needs a "from"');
    const from = path.join(REPO_ROOT, model.from);
    assert.ok(existsSync(from) && statSync(from).isDirectory(), `extraResources from ${model.from} is not a directory`);
    const manifest = JSON.parse(readFileSync(path.join(from, 'model.json'), 'utf8')) as { files: Record<string, { path: string }> };
    const filters = model.filter === undefined ? ['**/*'] : stringList(model.filter as Json, 'extraResources filter');
    for (const file of ['model.json', ...Object.values(manifest.files).map((f) => f.path)]) {
      assert.ok(existsSync(path.join(from, file)), `${model.from}/${file} (named by model.json) is missing`);
      assert.ok(includedBy(filters, file), `the extraResources filter leaves out ${file}`);
    }
  });

  it('builds AppImage, tar.gz and dir for Linux, in the Development category', () => {
    const linux = asObject(config.linux, 'linux');
    const targets = (Array.isArray(linux.target) ? linux.target : [linux.target]).map((t) =>
      typeof t === 'string' ? t : String(asObject(t, 'linux.target').target),
    );
    for (const target of ['AppImage', 'tar.gz', 'dir']) assert.ok(targets.includes(target), `linux.target lacks ${target}`);
    assert.equal(linux.category, 'Development');
  });

  it('names icons that exist, at the sizes electron-builder needs', () => {
    const referenced: { key: string; value: string }[] = [];
    const walk = (node: Json, where: string) => {
      if (Array.isArray(node)) node.forEach((child, i) => walk(child, `${where}[${i}]`));
      else if (node !== null && typeof node === 'object') {
        for (const [key, value] of Object.entries(node)) {
          if (/^(icon|.*Icon)$/.test(key) && typeof value === 'string') referenced.push({ key: `${where}${key}`, value });
          else walk(value, `${where}${key}.`);
        }
      }
    };
    walk(config, '');
    assert.ok(referenced.length > 0, 'no icon is configured');
    for (const { key, value } of referenced) {
      const file = resolveResource(value);
      assert.ok(file, `${key}: ${value} is neither in ${path.relative(REPO_ROOT, BUILD_RESOURCES)}/ nor in the project directory`);
      if (statSync(file).isDirectory()) {
        // A Linux icon set: <size>x<size>.png files whose names match their pixels.
        const pngs = readdirSync(file).filter((name) => /^\d+x\d+\.png$/.test(name));
        assert.ok(pngs.length > 0, `${key}: ${value}/ holds no <size>x<size>.png`);
        for (const name of pngs) {
          const [w, h] = name.split(/x|\./).map(Number);
          assert.deepEqual(pngSize(path.join(file, name)), { width: w, height: h }, `${key}: ${value}/${name} has other dimensions`);
        }
        for (const size of [16, 32, 48, 64, 128, 256, 512])
          assert.ok(pngs.includes(`${size}x${size}.png`), `${key}: ${value}/ lacks ${size}x${size}.png`);
      } else if (file.endsWith('.png')) {
        const { width, height } = pngSize(file);
        assert.equal(width, height, `${key}: ${value} is not square`);
        // macOS needs at least 512x512, Windows 256x256.
        assert.ok(width >= (key.startsWith('mac') ? 512 : 256), `${key}: ${value} is ${width}x${height}, too small`);
      }
    }
  });

  it('keeps the fuse that child_process.fork needs (the inference worker is a forked process)', () => {
    const fuses =
      config.electronFuses === undefined || config.electronFuses === null ? {} : asObject(config.electronFuses, 'electronFuses');
    assert.notEqual(
      fuses.runAsNode,
      false,
      'runAsNode: false breaks child_process.fork in the main process (ELECTRON_RUN_AS_NODE), which starts the inference worker',
    );
  });
});
