import { STATUS_CODES } from 'node:http';
import { CheckError } from '../errors.ts';
import { rawErrorResponse } from './http-responses.ts';

/** What to send when Node's HTTP parser refuses a connection's bytes, and the error to count when a check's body is refused. */
export interface ParserErrorAnswer {
  /** A complete HTTP/1.1 response that closes the connection. */
  readonly response: Buffer;
  /** The refusal as the client is told it (undefined: a bare 431, which no check ends with). */
  readonly error?: CheckError;
}

/** Node's own answer to an oversized request head (no error code of ours is 431, and no check ends with it). */
const HEADERS_TOO_LARGE = Buffer.from('HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n');

/** llhttp's reason ("Invalid character in chunk size"): a fixed phrase of the parser, never the client's bytes. */
function parserReason(err: NodeJS.ErrnoException): string {
  const reason = (err as { reason?: unknown }).reason;
  return typeof reason === 'string' && reason.length > 0 ? reason.slice(0, 120) : (err.code ?? 'parse error');
}

/**
 * How to answer an error of Node's 'clientError' event, as Node would by default (400, 408, 413,
 * 431) but with the JSON error body every other answer has. `inBody`: the error is in the body of
 * a request being read (a malformed chunked encoding), not in the head of a new one. Undefined for
 * errors of the connection itself (a reset) and for a body cut short by the client closing its
 * side: it has left, there is no one to answer (and the check is counted 499, as a hang-up).
 */
export function parserErrorAnswer(err: NodeJS.ErrnoException, inBody: boolean): ParserErrorAnswer | undefined {
  let error: CheckError;
  if (err.code === 'HPE_INVALID_EOF_STATE' && inBody) {
    return undefined;
  } else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    error = new CheckError('REQUEST_TIMEOUT', 'the request did not arrive in time; send it faster or in smaller pieces');
  } else if (err.code === 'HPE_HEADER_OVERFLOW' && !inBody) {
    return { response: HEADERS_TOO_LARGE };
  } else if (err.code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW') {
    error = new CheckError('PAYLOAD_TOO_LARGE', 'the chunk extensions of the request body are too long');
  } else if (err.code?.startsWith('HPE_')) {
    error = new CheckError('BAD_REQUEST', `malformed HTTP/1.1 request${inBody ? ' body' : ''}: ${parserReason(err)}`);
  } else {
    return undefined;
  }
  return { response: rawErrorResponse(error, STATUS_CODES[error.status] ?? 'Error'), error };
}
