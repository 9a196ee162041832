import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';

import { client } from './api/client.ts';
import { App } from './components/App.tsx';
import { subscribeToCore } from './store/events.ts';
import { useUi } from './store/ui.ts';
import './styles.css';

const { transport } = client();
subscribeToCore();
if ('onStatus' in transport)
  (transport as { onStatus(l: (c: boolean) => void): void }).onStatus((c) =>
    useUi.getState().setConnected(c),
  );

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
