import { contextBridge, ipcRenderer } from 'electron';
import type { IpcChannel, IpcContract, OfaVeApi } from './api-contract.ts';

function invoke<C extends IpcChannel>(channel: C, request: IpcContract[C]['request']): Promise<IpcContract[C]['response']> {
  return ipcRenderer.invoke(channel, request) as Promise<IpcContract[C]['response']>;
}

const api: OfaVeApi = {
  modelInfo: () => invoke('model:info', undefined),
  check: (request) => invoke('check:run', request),
};

contextBridge.exposeInMainWorld('ofaVe', api);
