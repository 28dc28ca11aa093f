import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { SingleCheck } from './checker/single-check.tsx';

const root = document.getElementById('root');
if (root) {
  createRoot(root).render(
    <StrictMode>
      <SingleCheck />
    </StrictMode>,
  );
}
