import { ipcMain, type IpcMainInvokeEvent, type WebContents } from 'electron';
import type { IpcChannel, IpcContract, Outcome } from '../../preload/api-contract.ts';
import { toCheckError } from '../errors.ts';

type Handler<C extends IpcChannel> = (request: IpcContract[C]['request']) => Promise<IpcContract[C]['response']>;

/**
 * Registers one handler per contract channel. Every call is refused unless it comes from the main
 * frame of the app's own window (electron/fiddle's sender check): an iframe or a navigated page
 * cannot reach the model.
 */
export class IpcRouter {
  constructor(private readonly isTrustedSender: (sender: WebContents, frameUrl: string | undefined) => boolean) {}

  handle<C extends IpcChannel>(channel: C, handler: Handler<C>): void {
    ipcMain.handle(channel, async (event: IpcMainInvokeEvent, request: IpcContract[C]['request']) => {
      const frame = event.senderFrame;
      if (!frame || frame !== event.sender.mainFrame || !this.isTrustedSender(event.sender, frame.url)) {
        return { ok: false, error: { code: 'UNAUTHORIZED', message: 'IPC call from an untrusted frame' } } satisfies Outcome<never>;
      }
      return handler(request);
    });
  }
}

/** Runs an operation and turns any failure into the contract's `{ ok: false, error }`. */
export async function outcome<T>(work: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await work() };
  } catch (err) {
    return { ok: false, error: toCheckError(err).toJSON() };
  }
}
