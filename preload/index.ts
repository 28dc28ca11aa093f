import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { runBatch } from '../renderer/api/batch-runner.ts';
import type { IpcChannel, IpcContract, IpcEvents, OfaVeApi } from './api-contract.ts';

/** Requests of one desktop batch in flight at once: enough to fill the service's dynamic batches. */
const BATCH_CONCURRENCY = 4;

function invoke<C extends IpcChannel>(channel: C, request: IpcContract[C]['request']): Promise<IpcContract[C]['response']> {
  return ipcRenderer.invoke(channel, request) as Promise<IpcContract[C]['response']>;
}

const batches = new Map<string, AbortController>();

const api: OfaVeApi = {
  endpoint: () => invoke('app:endpoint', undefined),
  modelInfo: () => invoke('model:info', undefined),
  chooseModelDirectory: () => invoke('model:choose-directory', undefined),
  check: (request) => invoke('check:run', request),
  async checkBatch(batchId, items, onResult, onProgress) {
    const controller = new AbortController();
    batches.set(batchId, controller);
    try {
      await runBatch(
        items,
        async (item) => {
          let image: Uint8Array;
          try {
            image = await item.read();
          } catch (err) {
            return { ok: false, error: { code: 'INVALID_IMAGE', message: `${item.name}: the file could not be read (${String(err)})` } };
          }
          const outcome = await invoke('check:run', { image, name: item.name, text: item.text, premise: item.premise });
          return outcome.ok ? { ok: true, result: outcome.value } : { ok: false, error: outcome.error, retryAfterS: 1 };
        },
        {
          onResult: (index, outcome) => onResult(index, outcome.ok ? { ok: true, value: outcome.result } : outcome),
          onProgress,
        },
        controller.signal,
        { concurrency: BATCH_CONCURRENCY, overloadRetries: 5 },
      );
    } finally {
      batches.delete(batchId);
    }
  },
  cancelBatch(batchId) {
    batches.get(batchId)?.abort();
  },
  subscribeStats(windowS, onStats, onError) {
    let subscriptionId: string | undefined;
    let stopped = false;
    const listener = (_event: IpcRendererEvent, tick: IpcEvents['stats:tick']) => {
      if (tick.subscriptionId === subscriptionId) onStats(tick.stats);
    };
    ipcRenderer.on('stats:tick', listener);
    void invoke('stats:subscribe', { windowS }).then((outcome) => {
      if (!outcome.ok) return onError(outcome.error);
      subscriptionId = outcome.value.subscriptionId;
      if (stopped) void invoke('stats:unsubscribe', { subscriptionId });
    });
    return () => {
      stopped = true;
      ipcRenderer.removeListener('stats:tick', listener);
      if (subscriptionId) void invoke('stats:unsubscribe', { subscriptionId });
    };
  },
  slowest: () => invoke('stats:slowest', undefined),
  saveFile: (request) => invoke('file:save', request),
  connection: () => invoke('connection:get', undefined),
  testConnection: (request) => invoke('connection:test', request),
  connect: (request) => invoke('connection:connect', request),
  onAppEvent(listener) {
    const wrapped = (_event: IpcRendererEvent, payload: IpcEvents['app:event']) => listener(payload);
    ipcRenderer.on('app:event', wrapped);
    return () => ipcRenderer.removeListener('app:event', wrapped);
  },
};

contextBridge.exposeInMainWorld('ofaVe', api);
