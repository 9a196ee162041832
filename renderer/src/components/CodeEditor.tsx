import { javascript } from '@codemirror/lang-javascript';
import { python } from '@codemirror/lang-python';
import { StreamLanguage } from '@codemirror/language';
import { shell } from '@codemirror/legacy-modes/mode/shell';
import CodeMirror from '@uiw/react-codemirror';
import { useMemo, useSyncExternalStore } from 'react';

import type { Language } from '../api/types.ts';

const dark = typeof matchMedia === 'function' ? matchMedia('(prefers-color-scheme: dark)') : null;
const subscribeScheme = (cb: () => void) => {
  dark?.addEventListener('change', cb);
  return () => dark?.removeEventListener('change', cb);
};

/** The script editor: syntax highlighting for the three languages, following the OS's light or dark theme. */
export function CodeEditor({
  language,
  value,
  onChange,
}: {
  language: Language;
  value: string;
  onChange: (value: string) => void;
}) {
  const isDark = useSyncExternalStore(subscribeScheme, () => dark?.matches ?? false);
  const extensions = useMemo(
    () => [
      language === 'python' ? python() : language === 'node' ? javascript() : StreamLanguage.define(shell),
    ],
    [language],
  );
  return (
    <div className="code-editor" data-testid="code-editor">
      <CodeMirror
        value={value}
        height="280px"
        theme={isDark ? 'dark' : 'light'}
        extensions={extensions}
        onChange={onChange}
        basicSetup={{ foldGutter: false }}
      />
    </div>
  );
}
