/**
 * Seeded generator of POST /api/v1/check requests for the HTTP fuzz test: valid requests, mutated
 * ones (bytes flipped, bodies cut, parts duplicated, dropped or shuffled, part headers and
 * boundaries broken), random multipart structures, random and mutated JSON, random bytes under
 * random content types, random and giant headers (within Node's 16 KiB header limit), chunked
 * bodies, other methods; and over a raw socket, request heads Node's parser refuses, request
 * targets that are not URLs, and clients that hang up mid-body.
 *
 * Request i depends only on (seed, i), so a failing request can be replayed on its own whatever the
 * order in which concurrent clients sent them.
 */
import { uniform01 } from '../../models/tools/seeded-random.ts';
import { encodePart, multipartBody, partHeaders, type FormPart } from './multipart-body.ts';

/** What the server must do with the request, so the test can keep exact totals. */
export type FuzzExpectation =
  /** Reaches the check route: answered by the app and counted once under the status it answers. */
  | 'counted'
  /** Refused by Node's HTTP parser (the JSON 400, or a bare 431): never reaches the route, never counted. */
  | 'node-parser'
  /** Answered by the app but not a check: the request target is not a URL at all (400), or the method is not POST (405). */
  | 'not-a-check'
  /** The client hangs up mid-body: no answer; counted once (499 CLIENT_CLOSED_REQUEST) when the server notices. */
  | 'abandoned';

export interface FuzzRequest {
  index: number;
  /** Short description of how the request was made, for the failure message and the tally. */
  kind: string;
  expect: FuzzExpectation;
  /** http: sent with node:http (valid head); raw: bytes written to a socket. */
  transport: 'http' | 'raw';
  method: string;
  path: string;
  headers: Record<string, string>;
  /** Body pieces: one piece → Content-Length; several → chunked transfer encoding. */
  body: Buffer[];
  /** For raw requests: the complete bytes to write. */
  raw?: Buffer;
}

export interface FuzzMaterial {
  /** Valid images (PNG, JPEG, GIF, WebP, ...) to build and mutate requests from. */
  images: readonly Buffer[];
  /** Bad images (truncated, garbage, SVG, ...). */
  badImages: readonly Buffer[];
}

/** A tiny seeded toolkit over uniform01. */
class Dice {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = uniform01(seed >>> 0);
  }
  float(): number {
    return this.next();
  }
  int(maxExclusive: number): number {
    return Math.floor(this.next() * maxExclusive);
  }
  range(min: number, maxInclusive: number): number {
    return min + this.int(maxInclusive - min + 1);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }
  bytes(n: number): Buffer {
    const out = Buffer.alloc(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }
  /** Visible ASCII (what a header value may hold without the client refusing it). */
  visible(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += String.fromCharCode(0x21 + this.int(0x7e - 0x21 + 1));
    return s;
  }
  token(n: number): string {
    const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.!#$%&'*+^`|~";
    let s = '';
    for (let i = 0; i < n; i++) s += alphabet[this.int(alphabet.length)];
    return s;
  }
  unicode(n: number): string {
    const pools = [
      'a dog on the grass ',
      'كلب على العشب ',
      'כלב על הדשא ',
      '草地上的一只狗 ',
      '🐶🌿👨‍👩‍👧 ',
      '\u0000\u0007\u001b\u202e\u200b\ufeff',
      '"\\\'<>&%{}[]',
      ' \t\r\n',
    ];
    let s = '';
    while (s.length < n) {
      const pool = this.pick(pools);
      s += pool.slice(this.int(pool.length));
    }
    return s.slice(0, n);
  }
}

const CAPTIONS = ['a dog on the grass', 'two people riding bikes', 'a red car', '', '   ', '...', 'ok'];
const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
  'application/xml',
  'application/octet-stream',
  'image/png',
  'application/x-www-form-urlencoded',
  'multipart/mixed; boundary=x',
  'multipart/form-data',
  'multipart/form-data; boundary=',
  'multipart/form-data; boundary="unterminated',
  'multipart/form-data; boundary=' + 'b'.repeat(200),
  '',
];
const REAL_HEADER_NAMES = [
  'accept',
  'accept-encoding',
  'accept-language',
  'user-agent',
  'cookie',
  'cache-control',
  'x-request-id',
  'x-forwarded-for',
  'content-language',
  'if-none-match',
  'range',
  'dnt',
];
/** Request targets Node's parser accepts but `new URL(target, base)` refuses. */
const UNPARSEABLE_TARGETS = ['//[', '//a:99999/', '//%', '//[::1/api/v1/check', '//:@/api/v1/check', '//a%zzb/'];
/** Characters that cannot appear in a header name (RFC 9110 token), bar ':' which would end it. */
const NOT_TOKEN = ['(', ')', ',', '/', ';', '<', '=', '>', '?', '@', '[', '\\', ']', '{', '}', '"', ' ', '\u0001', '\u007f'];

function boundaryFor(d: Dice): string {
  return d
    .pick(['----fuzz' + d.token(16), d.token(d.range(1, 70)), 'x', '-'.repeat(d.range(1, 40)) + d.token(4)])
    .replace(/[^A-Za-z0-9'()+_,./:=?-]/g, 'q');
}

function validParts(d: Dice, material: FuzzMaterial): FormPart[] {
  const parts: FormPart[] = [
    {
      name: 'image',
      filename: d.pick(['photo.png', 'a.jpg', 'x', '../../etc/passwd', 'имя.webp', 'q"uote.png']),
      contentType: d.pick(['image/png', 'image/jpeg', 'application/octet-stream', 'text/plain']),
      data: d.pick(material.images),
    },
    { name: 'text', data: d.pick(CAPTIONS.slice(0, 3)) },
  ];
  if (d.chance(0.2)) parts.push({ name: 'premise', data: d.pick(CAPTIONS) });
  return parts;
}

function mutateBytes(d: Dice, input: Buffer): Buffer {
  const out = Buffer.from(input);
  const op = d.int(6);
  if (op === 0 || out.length === 0) {
    for (let i = 0, n = d.range(1, 16); i < n && out.length > 0; i++) out[d.int(out.length)] = d.int(256);
    return out;
  }
  if (op === 1) return out.subarray(0, d.int(out.length));
  if (op === 2) {
    const at = d.int(out.length);
    return Buffer.concat([out.subarray(0, at), d.bytes(d.range(1, 64)), out.subarray(at)]);
  }
  if (op === 3) {
    const at = d.int(out.length);
    return Buffer.concat([out.subarray(0, at), out.subarray(Math.min(out.length, at + d.range(1, 256)))]);
  }
  if (op === 4) {
    // Flip CR/LF and dashes: the multipart syntax.
    for (let i = 0; i < out.length; i++)
      if ((out[i] === 0x0d || out[i] === 0x0a || out[i] === 0x2d) && d.chance(0.05)) out[i] = d.pick([0x0d, 0x0a, 0x2d, 0x20, 0x00]);
    return out;
  }
  const at = d.int(out.length);
  const len = Math.min(out.length - at, d.range(1, 512));
  return Buffer.concat([out, out.subarray(at, at + len)]);
}

function mutatedMultipart(d: Dice, material: FuzzMaterial): { body: Buffer; contentType: string; kind: string } {
  const boundary = boundaryFor(d);
  let parts = validParts(d, material);
  const op = d.int(9);
  let kind = 'multipart';
  if (op === 0) {
    parts.push({ ...d.pick(parts) });
    kind += ':duplicate-part';
  } else if (op === 1) {
    parts.splice(d.int(parts.length), 1);
    kind += ':drop-part';
  } else if (op === 2) {
    parts = parts
      .map((p) => ({ p, k: d.float() }))
      .sort((a, b) => a.k - b.k)
      .map(({ p }) => p);
    kind += ':shuffle';
  } else if (op === 3) {
    const target = d.pick(parts);
    target.headers = [
      d.pick([
        `${d.token(8)}: ${d.visible(d.range(0, 200))}`,
        d.visible(40),
        'Content-Transfer-Encoding: base64',
        `Content-Disposition: ${d.visible(30)}`,
        'Content-Type:',
      ]),
    ];
    kind += ':part-header';
  } else if (op === 4) {
    const target = d.pick(parts);
    target.name = d.pick([d.token(d.range(1, 20)), '', 'image', 'text', 'premise', d.unicode(8)]);
    kind += ':part-name';
  } else if (op === 5) {
    for (let i = 0, n = d.range(1, 14); i < n; i++)
      parts.push({ name: d.token(6), filename: d.chance(0.3) ? d.token(5) : undefined, data: d.bytes(d.range(0, 300)) });
    kind += ':many-parts';
  } else if (op === 6) {
    const target = parts.find((p) => p.name === 'image');
    if (target) target.data = d.pick(material.badImages);
    kind += ':bad-image';
  } else if (op === 7) {
    const target = parts.find((p) => p.name === 'text');
    if (target) target.data = d.chance(0.5) ? d.unicode(d.range(0, 400)) : d.bytes(d.range(0, 200));
    kind += ':odd-caption';
  } else {
    const target = parts.find((p) => p.name === 'image');
    if (target) target.data = mutateBytes(d, Buffer.from(target.data));
    kind += ':mutated-image';
  }
  let body = multipartBody(parts, { boundary, close: !d.chance(0.1) });
  if (d.chance(0.35)) {
    body = mutateBytes(d, body);
    kind += '+bytes';
  }
  const contentType = d.chance(0.85)
    ? d.pick([
        `multipart/form-data; boundary=${boundary}`,
        `multipart/form-data; boundary="${boundary}"`,
        `Multipart/Form-Data; charset=utf-8; boundary=${boundary}`,
      ])
    : d.pick([`multipart/form-data; boundary=${boundaryFor(d)}`, d.pick(CONTENT_TYPES)]);
  return { body, contentType, kind };
}

function randomJsonValue(d: Dice, depth: number, material: FuzzMaterial): unknown {
  const k = d.int(depth > 3 ? 6 : 9);
  if (k === 0) return null;
  if (k === 1) return d.chance(0.5);
  if (k === 2) return d.pick([0, -1, 1e308, 3.5, Number.MAX_SAFE_INTEGER]);
  if (k === 3) return d.unicode(d.range(0, 60));
  if (k === 4) return d.pick(material.images).toString('base64');
  if (k === 5) return d.bytes(d.range(0, 100)).toString(d.pick(['base64', 'base64url', 'hex', 'latin1'] as const));
  if (k === 6) return Array.from({ length: d.range(0, 4) }, () => randomJsonValue(d, depth + 1, material));
  return Object.fromEntries(
    Array.from({ length: d.range(0, 4) }, () => [
      d.pick(['image', 'text', 'premise', d.token(5)]),
      randomJsonValue(d, depth + 1, material),
    ]),
  );
}

function randomJson(d: Dice, material: FuzzMaterial): { body: Buffer; kind: string } {
  const value: Record<string, unknown> = {};
  const image = d.pick(material.images).toString('base64');
  value.image = d.pick([
    image,
    `data:image/png;base64,${image}`,
    image.replace(/(.{60})/g, '$1\n'),
    image.replace(/=+$/, ''),
    image.slice(0, d.int(image.length)),
    d.pick(material.badImages).toString('base64'),
    randomJsonValue(d, 0, material),
    undefined,
  ]);
  value.text = d.chance(0.7) ? d.pick(CAPTIONS) : randomJsonValue(d, 0, material);
  if (d.chance(0.3)) value.premise = d.chance(0.5) ? d.pick(CAPTIONS) : randomJsonValue(d, 0, material);
  for (let i = 0, n = d.int(4); i < n; i++) value[d.token(d.range(1, 12))] = randomJsonValue(d, 1, material);
  let text = JSON.stringify(d.chance(0.9) ? value : randomJsonValue(d, 0, material)) ?? 'undefined';
  let kind = 'json';
  if (d.chance(0.3)) {
    text = mutateBytes(d, Buffer.from(text)).toString('latin1');
    kind += ':mutated';
  }
  return { body: Buffer.from(text, 'latin1'), kind };
}

function randomHeaders(d: Dice): Record<string, string> {
  const headers: Record<string, string> = {};
  let budget = 12 * 1024; // Node refuses a header block over 16 KiB (431): stay well within
  for (let i = 0, n = d.range(1, 20); i < n && budget > 64; i++) {
    const name = d.chance(0.7) ? `x-fuzz-${d.token(d.range(1, 24)).toLowerCase()}` : d.pick(REAL_HEADER_NAMES);
    const size = Math.min(budget - 64, d.chance(0.15) ? d.range(1000, 8000) : d.range(0, 80));
    const value = d.visible(size);
    budget -= name.length + value.length + 4;
    headers[name] = value;
  }
  return headers;
}

function split(d: Dice, body: Buffer): Buffer[] {
  if (body.length < 2 || !d.chance(0.12)) return [body];
  const pieces: Buffer[] = [];
  let at = 0;
  while (at < body.length) {
    const n = Math.max(1, d.int(Math.ceil(body.length / 2)) + 1);
    pieces.push(body.subarray(at, at + n));
    at += n;
  }
  return pieces.length > 1 ? pieces : [body, Buffer.alloc(0)];
}

function head(method: string, target: string, headers: Record<string, string>, lines: string[] = []): string {
  const all = Object.entries(headers).map(([k, v]) => `${k}: ${v}`);
  return `${method} ${target} HTTP/1.1\r\n${[...all, ...lines].join('\r\n')}\r\n\r\n`;
}

/** Request `index` of the run with this seed. `host` is the server's host:port. */
export function fuzzRequest(seed: number, index: number, host: string, material: FuzzMaterial): FuzzRequest {
  const d = new Dice((seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0);
  const query = d.chance(0.1) ? `?${d.pick(['x=1', 'window=5', d.token(10), '%zz', 'a=%00&b=ü'.replace('ü', '%C3%BC')])}` : '';
  const path = `/api/v1/check${query}`;
  const roll = d.float();

  // Over a raw socket: what a well-behaved client cannot send.
  if (roll < 0.03) {
    const name = `X-Fuzz${d.pick(NOT_TOKEN)}${d.token(4)}`;
    const raw = Buffer.from(
      head('POST', path, { host, 'content-type': 'application/json', 'content-length': '2', connection: 'close' }, [
        `${name}: ${d.visible(10)}`,
      ]) + '{}',
      'latin1',
    );
    return {
      index,
      kind: 'raw:bad-header-name',
      expect: 'node-parser',
      transport: 'raw',
      method: 'POST',
      path,
      headers: {},
      body: [],
      raw,
    };
  }
  if (roll < 0.04) {
    const target = d.pick(UNPARSEABLE_TARGETS);
    const raw = Buffer.from(head(d.pick(['GET', 'POST']), target, { host, 'content-length': '0', connection: 'close' }), 'latin1');
    return {
      index,
      kind: 'raw:unparseable-target',
      expect: 'not-a-check',
      transport: 'raw',
      method: 'POST',
      path: target,
      headers: {},
      body: [],
      raw,
    };
  }
  if (roll < 0.05) {
    // A valid request cut short: nothing in what arrives lets the server answer before the hang-up
    // (a wrong content type would be answered at once, and counted under 415).
    const boundary = boundaryFor(d);
    const asJson = d.chance(0.5);
    const body = asJson
      ? Buffer.from(JSON.stringify({ image: d.pick(material.images).toString('base64'), text: d.pick(CAPTIONS) }))
      : multipartBody(validParts(d, material), { boundary });
    const contentType = asJson ? 'application/json' : `multipart/form-data; boundary=${boundary}`;
    const raw = Buffer.concat([
      Buffer.from(
        head('POST', path, { host, 'content-type': contentType, 'content-length': String(body.length), connection: 'close' }),
        'latin1',
      ),
      body.subarray(0, d.int(body.length)),
    ]);
    return { index, kind: 'raw:abandoned', expect: 'abandoned', transport: 'raw', method: 'POST', path, headers: {}, body: [], raw };
  }

  // Over node:http: a valid request head, any body.
  const method = d.chance(0.03) ? d.pick(['GET', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']) : 'POST';
  const headers: Record<string, string> = {};
  let body: Buffer;
  let kind: string;
  if (roll < 0.15) {
    const boundary = boundaryFor(d);
    body = multipartBody(validParts(d, material), { boundary });
    headers['content-type'] = `multipart/form-data; boundary=${boundary}`;
    kind = 'valid-multipart';
  } else if (roll < 0.45) {
    const m = mutatedMultipart(d, material);
    body = m.body;
    headers['content-type'] = m.contentType;
    kind = m.kind;
  } else if (roll < 0.6) {
    // A multipart body built from random parts, one part at a time.
    const boundary = boundaryFor(d);
    const parts: Buffer[] = [];
    for (let i = 0, n = d.range(0, 6); i < n; i++) {
      const part: FormPart = {
        name: d.pick(['image', 'text', 'premise', d.token(6)]),
        filename: d.chance(0.4) ? d.pick(['a.png', d.token(8), '']) : undefined,
        contentType: d.chance(0.5) ? d.pick(CONTENT_TYPES) || undefined : undefined,
        data: d.chance(0.4)
          ? d.pick([...material.images, ...material.badImages])
          : d.chance(0.5)
            ? d.unicode(d.range(0, 200))
            : d.bytes(d.range(0, 400)),
      };
      parts.push(d.chance(0.9) ? encodePart(part, boundary) : Buffer.from(`--${boundary}\r\n${partHeaders(part)}\r\n`));
    }
    if (d.chance(0.8)) parts.push(Buffer.from(`--${boundary}--\r\n`));
    body = Buffer.concat(parts);
    headers['content-type'] = `multipart/form-data; boundary=${boundary}`;
    kind = 'random-multipart';
  } else if (roll < 0.78) {
    const j = randomJson(d, material);
    body = j.body;
    headers['content-type'] = d.chance(0.9) ? 'application/json' : d.pick(CONTENT_TYPES);
    kind = j.kind;
  } else if (roll < 0.88) {
    body = d.chance(0.5) ? d.bytes(d.range(0, 4096)) : Buffer.from(d.unicode(d.range(0, 500)));
    const type = d.pick([...CONTENT_TYPES, `multipart/form-data; boundary=${boundaryFor(d)}`]);
    if (type) headers['content-type'] = type;
    kind = 'random-body';
  } else {
    const boundary = boundaryFor(d);
    body = multipartBody(validParts(d, material), { boundary });
    headers['content-type'] = `multipart/form-data; boundary=${boundary}`;
    Object.assign(headers, randomHeaders(d));
    kind = 'random-headers';
  }
  // Only a POST is a check: other methods (a CORS preflight among them) are answered 405 and not counted.
  return {
    index,
    kind,
    expect: method === 'POST' ? 'counted' : 'not-a-check',
    transport: 'http',
    method,
    path,
    headers,
    body: split(d, body),
  };
}
