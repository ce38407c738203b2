import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './ui/App';
import { ensureCrossOriginIsolation } from './ui/isolation';
import './ui/app.css';

// first make the page cross-origin isolated if its host did not (WebAssembly threads need it)
if (!(await ensureCrossOriginIsolation())) {
  createRoot(document.getElementById('root')!).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
}
