import { useEffect, useState } from 'react';

/** Fired by Ctrl/Cmd+N (see App): the current view opens its "new" form. */
export const NEW_ITEM_EVENT = 'cronium:new';

/**
 * The item a view's form is editing: null when closed, 'new' for a new one. Ctrl/Cmd+N opens a new one.
 */
export function useEditing<T>() {
  const state = useState<T | 'new' | null>(null);
  const setEditing = state[1];
  useEffect(() => {
    const onNew = () => setEditing('new');
    window.addEventListener(NEW_ITEM_EVENT, onNew);
    return () => window.removeEventListener(NEW_ITEM_EVENT, onNew);
  }, [setEditing]);
  return state;
}
