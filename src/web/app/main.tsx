/** Entry point of the web chat page. */
import { render } from 'preact';
import { App } from './app.tsx';
import { MeshStore } from './mesh-store.ts';
import { StoreContext } from './use-store.ts';

const store = new MeshStore();
store.start();

render(
  <StoreContext.Provider value={store}>
    <App />
  </StoreContext.Provider>,
  document.getElementById('app')!,
);
