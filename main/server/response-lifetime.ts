import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** Per connection: what to do for each of its responses still open when it closes. */
const openOnSocket = new WeakMap<Socket, Set<() => void>>();

/**
 * Calls `done` once, when the response is over: sent, or its connection gone. A response's own
 * 'close' is not enough: one queued behind another on a pipelining connection never emits it when
 * the connection dies, and whatever it held (upload bytes, a busy mark) would be held for ever.
 */
export function whenResponseDone(req: IncomingMessage, res: ServerResponse, done: () => void): void {
  const socket = req.socket;
  let open = openOnSocket.get(socket);
  if (!open) {
    const registered = new Set<() => void>();
    open = registered;
    openOnSocket.set(socket, registered);
    socket.once('close', () => {
      for (const fn of [...registered]) fn();
    });
  }
  const pending = open;
  let called = false;
  const finish = () => {
    if (called) return;
    called = true;
    pending.delete(finish);
    done();
  };
  pending.add(finish);
  res.once('close', finish);
  if (socket.destroyed) setImmediate(finish);
}
