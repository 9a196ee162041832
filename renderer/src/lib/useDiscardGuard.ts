import { useCallback } from 'react';

import { useUi } from '../store/ui.ts';

/**
 * Closing a form: straight away when nothing was changed, otherwise only after the user agrees to throw
 * the changes away (the app's confirm dialog). `dirty` compares the form with what it opened with.
 * Returns the function for the accidental ways out — Escape, a click on the backdrop, the ✕ — while the
 * form's own Cancel button stays an explicit "throw away" that does not ask again.
 */
export function useDiscardGuard(dirty: boolean, onDone: () => void, what: string): () => void {
  const ask = useUi((s) => s.ask);
  return useCallback(() => {
    if (!dirty) return onDone();
    void ask({
      title: 'Discard changes?',
      message: `${what} has unsaved changes. Close it and lose them?`,
      confirmLabel: 'Discard changes',
      cancelLabel: 'Keep editing',
      danger: true,
    }).then((yes) => yes && onDone());
  }, [ask, dirty, onDone, what]);
}
