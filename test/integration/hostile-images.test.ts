/**
 * Hostile images against the real service under the default limits of `ofa-ve serve` (20 MiB,
 * 50 megapixels): files of a few KiB to 19 MiB that used to cost 3 to 300+ s of CPU, 1.5 GB of
 * memory or a 500 (issue 13, "Amplification"). Each is answered with its code within a bound far
 * below what it used to cost, /healthz stays up, and the request counter moves by exactly one.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { deflateSync } from 'node:zlib';
import { manyFrameGif, manyFrameWebp, manyPageTiff, progressiveJpeg, solidPng } from '../fixtures/image-corpus.ts';
import { multipartBody, multipartType } from '../support/multipart-body.ts';
import { requestTotals, startHarness, type Harness } from '../support/service-harness.ts';

/** Generous: these took 3 s to minutes before; a maximum-size photo takes about 1 s. */
const ANSWER_WITHIN_MS = 15_000;

interface HostileCase {
  name: string;
  bytes: () => Buffer | Promise<Buffer>;
  status: number;
  code?: string;
}

/** A PNG with a zTXt chunk that inflates to 200 MiB (libpng's chunk limits must hold). */
function pngWithTextBomb(): Buffer {
  const png = solidPng(64, 64);
  const iend = png.length - 12;
  const data = Buffer.concat([Buffer.from('Comment\0\0', 'latin1'), deflateSync(Buffer.alloc(200 * 1024 * 1024), { level: 9 })]);
  const chunk = Buffer.concat([Buffer.alloc(4), Buffer.from('zTXt', 'latin1'), data, Buffer.alloc(4)]);
  chunk.writeUInt32BE(data.length, 0);
  chunk.writeUInt32BE(crc32(chunk.subarray(4, chunk.length - 4)), chunk.length - 4);
  return Buffer.concat([png.subarray(0, iend), chunk, png.subarray(iend)]);
}

function crc32(b: Uint8Array): number {
  let c = 0xffffffff;
  for (const x of b) {
    c ^= x;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

const CASES: HostileCase[] = [
  { name: '1x1,000,000 PNG (4 KiB; was 15-29 s, 1.5 GB)', bytes: () => solidPng(1, 1_000_000), status: 413, code: 'IMAGE_TOO_LARGE' },
  { name: '1x10,000,000 PNG (38 KiB; was a 500)', bytes: () => solidPng(1, 10_000_000), status: 413, code: 'IMAGE_TOO_LARGE' },
  { name: '1x65,535 PNG, the tallest strip accepted', bytes: () => solidPng(1, 65_535), status: 200 },
  {
    name: '7000x7000 progressive JPEG with 883 scans (178 KiB; was 9-19 s)',
    bytes: () => progressiveJpeg(7000, 7000, 883),
    status: 413,
    code: 'IMAGE_TOO_LARGE',
  },
  { name: '7000x7000 progressive JPEG with 32 scans, the most accepted', bytes: () => progressiveJpeg(7000, 7000, 32), status: 200 },
  { name: 'animated WebP with 360,000 frames (17 MiB; was over 300 s)', bytes: () => manyFrameWebp(360_000), status: 200 },
  { name: 'TIFF with 170,000 chained pages (19 MiB; was 3 s)', bytes: () => manyPageTiff(170_000), status: 200 },
  { name: 'GIF with 800,000 frames (18 MiB)', bytes: () => manyFrameGif(800_000), status: 200 },
  { name: 'PNG with a zTXt chunk inflating to 200 MiB', bytes: pngWithTextBomb, status: 200 },
];

describe('hostile images against the service (default limits)', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => h?.close());

  for (const c of CASES) {
    it(c.name, async () => {
      const bytes = await c.bytes();
      const body = multipartBody([
        { name: 'image', filename: 'upload.bin', contentType: 'application/octet-stream', data: bytes },
        { name: 'text', data: 'a picture' },
      ]);
      const { total: before } = requestTotals(await (await fetch(`${h.url}/metrics`)).text());
      const started = performance.now();
      const res = await fetch(`${h.url}/api/v1/check`, {
        method: 'POST',
        headers: { 'content-type': multipartType() },
        body: new Uint8Array(body),
        signal: AbortSignal.timeout(60_000),
      });
      const answer = (await res.json()) as { error?: { code: string; message: string } };
      const elapsed = performance.now() - started;
      assert.equal(res.status, c.status, JSON.stringify(answer));
      if (c.code) assert.equal(answer.error?.code, c.code);
      assert.ok(elapsed < ANSWER_WITHIN_MS, `answered in ${elapsed.toFixed(0)} ms`);
      assert.equal((await fetch(`${h.url}/healthz`, { signal: AbortSignal.timeout(5000) })).status, 200);
      const { total: afterCase } = requestTotals(await (await fetch(`${h.url}/metrics`)).text());
      assert.equal(afterCase - before, 1, 'ofa_ve_request_total moved by one');
    });
  }
});
