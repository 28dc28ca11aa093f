import busboy from 'busboy';
import type { IncomingMessage } from 'node:http';
import type { CheckPair } from '../../preload/wire-types.ts';
import type { InputLimits } from '../config.ts';
import { CheckError } from '../errors.ts';
import { structuredFields } from '../service/structured-check-request.ts';
import { decodeUtf8 } from '../strict-utf8.ts';

export interface BodyLimits {
  /** Whole request body, multipart or JSON (PAYLOAD_TOO_LARGE beyond). */
  readonly maxBodyBytes: number;
  /** The image alone (IMAGE_TOO_LARGE beyond). */
  readonly maxImageBytes: number;
  /** A text field (caption or premise) before it reaches the service. */
  readonly maxFieldBytes: number;
}

/** Room in a body for what is not the image or the texts: multipart headers and boundaries, JSON keys. */
const BODY_OVERHEAD_BYTES = 64 * 1024;

/**
 * The body limits that follow from the service's input limits: the largest image it accepts,
 * base64-encoded in a JSON body (4/3 of its bytes), plus a caption and a premise at their limit,
 * plus the envelope. A body over it holds something the service would refuse anyway.
 */
export function bodyLimitsFor(limits: InputLimits): BodyLimits {
  return {
    maxBodyBytes: Math.ceil((limits.maxImageBytes * 4) / 3) + 2 * limits.maxTextBytes + BODY_OVERHEAD_BYTES,
    maxImageBytes: limits.maxImageBytes,
    maxFieldBytes: limits.maxTextBytes,
  };
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** How the error messages name the text fields (a Map: a part may be named `constructor`). */
const TEXT_FIELD_LABELS: ReadonlyMap<string, string> = new Map([
  ['text', 'the caption (text)'],
  ['premise', 'the premise'],
]);

/**
 * What busboy decodes a form field with when its part names no charset, as browsers, curl and most
 * clients send them: Latin-1, one character per byte, so that the bytes can be checked as UTF-8 here
 * rather than decoded leniently by busboy. A part that names its charset (`text/plain;
 * charset=utf-8`, as Spring sends) is decoded by busboy as it says; busboy asks this label for its
 * lower-case form exactly when it decodes a field with it, which is how the two are told apart.
 * Were busboy to stop asking, the label reads as UTF-8: the lenient decoding of before, not mojibake.
 */
class UndeclaredFieldCharset extends String {
  private used = false;
  constructor() {
    super('utf8');
  }
  override toLowerCase(): string {
    this.used = true;
    return 'latin1';
  }
  /** Whether the field just decoded was decoded with this charset (and forgets it). */
  takeUse(): boolean {
    const used = this.used;
    this.used = false;
    return used;
  }
}

/** A Content-Type split into its lower-cased type/subtype and its parameters (names lower-cased). */
interface MediaType {
  readonly essence: string;
  readonly params: ReadonlyMap<string, string>;
}

/** RFC 9110 §8.3.1: type/subtype, then `; name=value` (value a token or a quoted string). */
export function parseMediaType(header: string): MediaType | undefined {
  const m = /^\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+\/[!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*/.exec(header);
  if (!m) return undefined;
  const params = new Map<string, string>();
  let rest = header.slice(m[0].length);
  const param = /^;\s*(?:([!#$%&'*+.^_`|~0-9A-Za-z-]+)=("(?:[^"\\]|\\.)*"|[!#$%&'*+.^_`|~0-9A-Za-z-]*)\s*)?/;
  while (rest.length > 0) {
    const p = param.exec(rest);
    if (!p || p[0].length === 0) return undefined;
    if (p[1] !== undefined) {
      const raw = p[2] ?? '';
      params.set(p[1].toLowerCase(), raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw);
    }
    rest = rest.slice(p[0].length);
  }
  return { essence: (m[1] as string).toLowerCase(), params };
}

/**
 * JSON is `application/json`, with at most a UTF-8 charset (RFC 8259 §8.1: JSON is UTF-8): not
 * `application/json-seq`, `application/jsonx`, another charset or unknown parameters.
 */
function isJsonType(type: MediaType | undefined): boolean {
  if (type?.essence !== 'application/json') return false;
  for (const [name, value] of type.params) {
    if (name !== 'charset' || !/^utf-?8$/i.test(value)) return false;
  }
  return true;
}

/** The whole header is shown: a refused parameter (`charset=latin1`) is often the reason. */
function unsupported(header: string, wanted: string): CheckError {
  const shown = header ? `"${header.trim().slice(0, 100)}"` : 'missing';
  return new CheckError('UNSUPPORTED_MEDIA_TYPE', `Content-Type ${shown}; send ${wanted} (with no parameter but charset=utf-8)`);
}

/** A small JSON body (a mark) is `application/json` as a check's is: 415 otherwise. */
export function requireJsonBody(req: IncomingMessage): void {
  const header = req.headers['content-type'] ?? '';
  if (!isJsonType(parseMediaType(header))) throw unsupported(header, 'application/json');
}

export interface BodyReading {
  /** The whole body must have arrived by then (performance.now() time): REQUEST_TIMEOUT after. */
  readonly deadline: number;
  /**
   * Told the bytes received so far as they arrive; an error it returns refuses the body there (the
   * rest is read and dropped). The HTTP server grows a chunked body's upload reservation with it.
   */
  readonly admit?: (received: number) => CheckError | undefined;
}

/**
 * What the head of a check says about its body, refused before any of it is read: 413 by its
 * declared length, 415 by its type. Returns the declared length (undefined: chunked).
 */
export function checkBodyHeaders(req: IncomingMessage, limits: BodyLimits): number | undefined {
  const header = req.headers['content-type'] ?? '';
  const declared = req.headers['content-length'] === undefined ? undefined : Number(req.headers['content-length']);
  if (declared !== undefined && declared > limits.maxBodyBytes) throw tooLarge(limits);
  const essence = (header.split(';')[0] as string).trim().toLowerCase();
  // busboy reads (and refuses, 400) the multipart parameters itself.
  if (essence !== 'multipart/form-data' && !isJsonType(parseMediaType(header))) {
    throw unsupported(header, 'multipart/form-data or application/json');
  }
  return declared;
}

/**
 * Reads a POST /api/v1/check body: multipart (`image` file, `text`, `premise`) or JSON (base64
 * image). A body still arriving at `reading.deadline` fails with 408 REQUEST_TIMEOUT.
 */
export async function parseCheckBody(req: IncomingMessage, limits: BodyLimits, reading?: BodyReading): Promise<CheckPair> {
  checkBodyHeaders(req, limits);
  const multipart = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase() === 'multipart/form-data';
  const admit = reading?.admit;
  const parsing = multipart ? parseMultipart(req, limits, admit) : readBody(req, limits, admit).then((body) => parseJson(body, limits));
  return reading ? withDeadline(req, parsing, reading.deadline) : parsing;
}

/** Fails with REQUEST_TIMEOUT when the body is not read by `deadline`; stops reading it then. */
function withDeadline(req: IncomingMessage, parsing: Promise<CheckPair>, deadline: number): Promise<CheckPair> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => {
        req.unpipe();
        req.removeAllListeners('data');
        reject(new CheckError('REQUEST_TIMEOUT', 'the request body did not arrive in time; send it faster or in smaller pieces'));
      },
      Math.max(0, deadline - performance.now()),
    );
    timer.unref();
    parsing.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}

function tooLarge(limits: BodyLimits): CheckError {
  return new CheckError('PAYLOAD_TOO_LARGE', `the request body is over the ${limits.maxBodyBytes}-byte limit`);
}

/**
 * Counts a body's bytes as they arrive and stops it (`stop` once, with the reason) at the body
 * limit or when `admit` refuses it; the rest of the body is then read and dropped.
 */
function watchBodySize(
  req: IncomingMessage,
  limits: BodyLimits,
  admit: BodyReading['admit'],
  stop: (error: CheckError) => void,
): { readonly stopped: boolean } {
  const state = { stopped: false };
  let received = 0;
  req.on('data', (chunk: Buffer) => {
    if (state.stopped) return;
    received += chunk.length;
    const error = received > limits.maxBodyBytes ? tooLarge(limits) : admit?.(received);
    if (!error) return;
    state.stopped = true;
    stop(error);
  });
  return state;
}

function readBody(req: IncomingMessage, limits: BodyLimits, admit: BodyReading['admit']): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const size = watchBodySize(req, limits, admit, (error) => {
      reject(error);
      req.resume();
    });
    req.on('data', (chunk: Buffer) => {
      if (!size.stopped) chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', () => reject(new CheckError('BAD_REQUEST', 'the request body could not be read')));
  });
}

function parseJson(body: Buffer, limits: BodyLimits): CheckPair {
  const json = decodeUtf8(body);
  if (json === undefined) throw new CheckError('BAD_REQUEST', 'the JSON body is not valid UTF-8');
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new CheckError('BAD_REQUEST', 'the body is not valid JSON');
  }
  const { image, text, premise } = structuredFields(value, 'the JSON body');
  // "" is an image of 0 bytes: INVALID_IMAGE from the decoder, as the same upload gets in multipart.
  if (typeof image !== 'string') throw new CheckError('BAD_REQUEST', '"image" (base64 string) is required');
  // Refused here, as multipart does, rather than queued for the worker to refuse.
  for (const [field, value] of [
    ['text', text],
    ['premise', premise],
  ] as const) {
    if (typeof value === 'string' && Buffer.byteLength(value) > limits.maxFieldBytes) {
      throw new CheckError('TEXT_TOO_LONG', `"${field}" is ${Buffer.byteLength(value)} bytes; the limit is ${limits.maxFieldBytes}`);
    }
  }
  const encoded = image.replace(/^data:[^;,]*;base64,/, '').replace(/\s+/g, '');
  if (!BASE64.test(encoded) || encoded.length % 4 === 1) throw new CheckError('BAD_REQUEST', '"image" is not valid base64');
  const bytes = Buffer.from(encoded, 'base64');
  if (bytes.length > limits.maxImageBytes) {
    throw new CheckError('IMAGE_TOO_LARGE', `the image is ${bytes.length} bytes; the limit is ${limits.maxImageBytes}`);
  }
  return { image: bytes, text, premise };
}

/** Why a file part is refused: any but the one `image` (the texts are plain fields), or undefined. */
function fileRefusal(name: string | undefined, haveImage: boolean): CheckError | undefined {
  if (name === 'image') return haveImage ? new CheckError('BAD_REQUEST', 'send one image per request') : undefined;
  const label = name === undefined ? undefined : TEXT_FIELD_LABELS.get(name);
  if (label) {
    return new CheckError(
      'BAD_REQUEST',
      `${label} must be a plain form field, not a file (with curl: -F '${name}=<file.txt' or -F '${name}=...', not -F ${name}=@file.txt)`,
    );
  }
  const shown = name === undefined || name === '' ? 'a file part with no name' : `a file part named "${name.slice(0, 100)}"`;
  return new CheckError('BAD_REQUEST', `the form has ${shown}; the only file part is "image"`);
}

function parseMultipart(req: IncomingMessage, limits: BodyLimits, admit: BodyReading['admit']): Promise<CheckPair> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    const undeclaredCharset = new UndeclaredFieldCharset();
    try {
      parser = busboy({
        headers: req.headers,
        // busboy's type says string; it only compares the label and asks for its lower-case form.
        defCharset: undeclaredCharset as unknown as string,
        // busboy reports a limit once a value *reaches* it; + 1 so that exactly the limit is accepted,
        // as the JSON form and the image decoder accept it. Two files: a second one is named when refused.
        limits: { fileSize: limits.maxImageBytes + 1, files: 2, fields: 8, fieldSize: limits.maxFieldBytes + 1, parts: 12 },
      });
    } catch {
      reject(new CheckError('BAD_REQUEST', 'malformed multipart/form-data (missing boundary)'));
      return;
    }
    let failed: CheckError | undefined;
    const fail = (error: CheckError) => {
      failed ??= error;
    };
    let image: Buffer | undefined;
    let imageStarted = false;
    // No prototype: a part named `__proto__` is a field like any other.
    const fields: Record<string, string | undefined> = Object.create(null) as Record<string, string | undefined>;
    watchBodySize(req, limits, admit, (error) => {
      fail(error);
      req.unpipe(parser);
      req.resume();
      finish();
    });
    parser.on('file', (name, stream) => {
      const refused = fileRefusal(name, imageStarted);
      if (refused) {
        fail(refused);
        stream.resume();
        stream.on('error', () => {});
        return;
      }
      imageStarted = true;
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('limit', () => fail(new CheckError('IMAGE_TOO_LARGE', `the image is over the ${limits.maxImageBytes}-byte limit`)));
      // busboy destroys the stream of a file part the body cuts short; an 'error' event without a
      // listener would be thrown and stop the whole process.
      stream.on('error', () => fail(new CheckError('BAD_REQUEST', 'malformed multipart/form-data body (a file part is cut short)')));
      stream.on('close', () => {
        image = Buffer.concat(chunks);
      });
    });
    parser.on('field', (name, value: string | undefined, info) => {
      const undeclared = undeclaredCharset.takeUse();
      if (info.valueTruncated) fail(new CheckError('TEXT_TOO_LONG', `the ${name} field is over the ${limits.maxFieldBytes}-byte limit`));
      const label = TEXT_FIELD_LABELS.get(name);
      // Other fields are ignored: only the texts need their bytes checked.
      if (!label || !undeclared || value === undefined) {
        fields[name] = value;
        return;
      }
      const text = decodeUtf8(Buffer.from(value, 'latin1'));
      if (text === undefined) fail(new CheckError('BAD_REQUEST', `${label} is not valid UTF-8`));
      fields[name] = text;
    });
    parser.on('partsLimit', () => fail(new CheckError('BAD_REQUEST', 'too many parts in the form')));
    parser.on('filesLimit', () => fail(new CheckError('BAD_REQUEST', 'send one image per request')));
    parser.on('fieldsLimit', () => fail(new CheckError('BAD_REQUEST', 'too many fields in the form')));
    parser.on('error', () => {
      fail(new CheckError('BAD_REQUEST', 'malformed multipart/form-data body'));
      finish();
    });
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      if (failed) return reject(failed);
      if (!image) return reject(new CheckError('BAD_REQUEST', 'the form has no "image" file'));
      if (fields.text === undefined) return reject(new CheckError('BAD_REQUEST', 'the form has no "text" field'));
      resolve({ image, text: fields.text, premise: fields.premise });
    };
    parser.on('close', finish);
    req.on('error', () => {
      fail(new CheckError('BAD_REQUEST', 'the request body could not be read'));
      finish();
    });
    req.pipe(parser);
  });
}
