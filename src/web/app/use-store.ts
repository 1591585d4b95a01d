/** Preact binding for MeshStore. */
import { createContext } from 'preact';
import { useContext, useEffect, useState } from 'preact/hooks';
import type { MeshState, MeshStore } from './mesh-store.ts';

/** The page's MeshStore, provided once in main.tsx. */
export const StoreContext = createContext<MeshStore | null>(null);

/** Returns the store and re-renders the component on every state change. */
export function useMesh(): [MeshState, MeshStore] {
  const store = useContext(StoreContext);
  if (!store) throw new Error('useMesh() needs <StoreContext.Provider>');
  const [state, setState] = useState(store.state);
  useEffect(() => {
    setState(store.state);
    return store.subscribe(() => setState(store.state));
  }, [store]);
  return [state, store];
}

/** Re-renders every `ms` so relative times ("5 min ago") stay true. */
export function useTick(ms = 30_000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}
