/**
 * The bridge, nothing else (electron/fiddle's preload): one function per contract operation over
 * ipcRenderer, and the two event subscriptions. Logic such as the batch loop lives in the
 * renderer (renderer/api/ipc-client.ts), which this file never imports.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { IpcChannel, IpcContract, IpcEvents, OfaVeApi } from './api-contract.ts';

function invoke<C extends IpcChannel>(channel: C, request: IpcContract[C]['request']): Promise<IpcContract[C]['response']> {
  return ipcRenderer.invoke(channel, request) as Promise<IpcContract[C]['response']>;
}

const api: OfaVeApi = {
  endpoint: () => invoke('app:endpoint', undefined),
  modelInfo: () => invoke('model:info', undefined),
  chooseModelDirectory: () => invoke('model:choose-directory', undefined),
  check: (request) => invoke('check:run', request),
  cancelCheck: (checkId) => invoke('check:cancel', { checkId }),
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
  slices: (windowS, attribute) => invoke('stats:slices', { windowS, attribute }),
  marks: () => invoke('stats:marks', undefined),
  addMark: (name) => invoke('stats:add-mark', { name }),
  compare: (request) => invoke('stats:compare', request),
  trace: (id, format) => invoke('stats:trace', { id, format }),
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
