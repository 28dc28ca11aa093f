import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app.tsx';
import './app.css';
import { HttpConsoleClient } from './api/http-client.ts';
import { IpcConsoleClient } from './api/ipc-client.ts';

// Desktop: the preload put the typed API on window.ofaVe. Browser: talk HTTP to the page's origin.
const client = window.ofaVe ? new IpcConsoleClient(window.ofaVe) : new HttpConsoleClient(location.origin);

const root = document.getElementById('root');
if (root) {
  createRoot(root).render(
    <StrictMode>
      <App client={client} />
    </StrictMode>,
  );
}
