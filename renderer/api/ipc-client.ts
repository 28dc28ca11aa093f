import type { AppEvent, OfaVeApi, Outcome } from '../../preload/api-contract.ts';
import type { ApiError, ModelDocument, SlowRequest, StatsDocument } from '../../preload/wire-types.ts';
import {
  ClientError,
  type BatchHandlers,
  type CheckInput,
  type CheckOutcome,
  type ConsoleClient,
  type EndpointInfo,
  type ServiceLocation,
} from './console-client.ts';

export function unwrap<T>(outcome: Outcome<T>): T {
  if (outcome.ok) return outcome.value;
  throw new ClientError(outcome.error.code, outcome.error.message);
}

let batchCounter = 0;

/** Desktop mode: the ConsoleClient over the preload's typed API (IPC to the main process). */
export class IpcConsoleClient implements ConsoleClient {
  readonly mode = 'desktop' as const;
  readonly location: ServiceLocation = { kind: 'local' };

  /** `api` is public for the connection dialog (renderer/connection/), which uses the same preload API. */
  constructor(readonly api: OfaVeApi) {}

  async modelInfo(): Promise<ModelDocument> {
    return unwrap(await this.api.modelInfo());
  }

  async endpoint(): Promise<EndpointInfo> {
    return unwrap(await this.api.endpoint());
  }

  async check(input: CheckInput): Promise<CheckOutcome> {
    const image = new Uint8Array(await input.image.arrayBuffer());
    const outcome = await this.api.check({ image, name: input.name, text: input.text, premise: input.premise });
    return outcome.ok ? { ok: true, result: outcome.value } : { ok: false, error: outcome.error };
  }

  async checkBatch(items: readonly CheckInput[], handlers: BatchHandlers, signal: AbortSignal): Promise<void> {
    const batchId = `batch-${++batchCounter}-${Date.now()}`;
    const cancel = () => this.api.cancelBatch(batchId);
    signal.addEventListener('abort', cancel, { once: true });
    try {
      await this.api.checkBatch(
        batchId,
        items.map((item) => ({
          name: item.name,
          text: item.text,
          premise: item.premise,
          read: async () => new Uint8Array(await item.image.arrayBuffer()),
        })),
        (index, outcome) => handlers.onResult(index, outcome.ok ? { ok: true, result: outcome.value } : { ok: false, error: outcome.error }),
        handlers.onProgress,
      );
    } finally {
      signal.removeEventListener('abort', cancel);
    }
  }

  subscribeStats(windowS: number, onStats: (doc: StatsDocument) => void, onError: (error: ApiError) => void): () => void {
    return this.api.subscribeStats(windowS, onStats, onError);
  }

  async slowest(): Promise<SlowRequest[]> {
    return unwrap(await this.api.slowest());
  }

  async saveFile(suggestedName: string, content: string, mimeType: string): Promise<boolean> {
    return unwrap(await this.api.saveFile({ suggestedName, content, mimeType })).saved;
  }

  readonly onAppEvent = (listener: (event: AppEvent) => void): (() => void) => this.api.onAppEvent(listener);

  readonly chooseModelDirectory = async (): Promise<ModelDocument> => {
    const doc = unwrap(await this.api.chooseModelDirectory());
    return doc ?? this.modelInfo();
  };
}
