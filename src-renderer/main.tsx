/** The renderer's entry: connect the backend's events to the store, then render the app. */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { AppShell } from './components/app-shell';
import { connectEvents } from './store/events';
import './styles.css';

connectEvents();
const root = document.getElementById('root');
if (root) {
  createRoot(root).render(
    <StrictMode>
      <AppShell />
    </StrictMode>,
  );
}
