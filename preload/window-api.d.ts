import type { OfaVeApi } from './api-contract.ts';

declare global {
  interface Window {
    ofaVe?: OfaVeApi;
  }
}
