// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen } from '@testing-library/react';
import { useState } from 'react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { setTransport } from '../src/api/client.ts';
import { ConfirmDialog, Modal } from '../src/components/common.tsx';
import { JobEditor } from '../src/components/JobsView.tsx';
import { useUi } from '../src/store/ui.ts';

afterEach(cleanup);
// jsdom has no layout: CodeMirror (in the job editor) measures text ranges, which jsdom lacks.
Range.prototype.getClientRects = () =>
  ({ length: 0, item: () => null, [Symbol.iterator]: [][Symbol.iterator] }) as DOMRectList;
Range.prototype.getBoundingClientRect = () => new DOMRect();
beforeEach(() => {
  setTransport({ call: async () => ({ ok: true, value: [] }), subscribe: () => () => {} });
  useUi.setState({ confirm: null });
});

/** What App renders for the confirm dialog. */
function ConfirmHost() {
  const confirm = useUi((s) => s.confirm);
  return confirm ? <ConfirmDialog request={confirm} onAnswer={confirm.answer} /> : null;
}

const key = (k: string, init: KeyboardEventInit = {}) =>
  fireEvent.keyDown(document.activeElement ?? document.body, { key: k, ...init });

function Opener() {
  const [open, setOpen] = useState(false);
  return (
    <>
      <button onClick={() => setOpen(true)}>open</button>
      {open && (
        <Modal title="Trap" onClose={() => setOpen(false)}>
          <input data-testid="first" />
          <input data-testid="last" />
        </Modal>
      )}
    </>
  );
}

describe('Modal', () => {
  it('takes the focus, keeps Tab and Shift+Tab inside, and gives the focus back on close', () => {
    render(<Opener />);
    const opener = screen.getByText('open');
    opener.focus();
    fireEvent.click(opener);
    expect(document.activeElement).toBe(screen.getByTestId('first'));
    screen.getByTestId('last').focus();
    key('Tab');
    // Past the last field: round to the first focusable of the dialog (its ✕).
    expect(document.activeElement).toBe(screen.getByLabelText('Close'));
    key('Tab', { shiftKey: true });
    expect(document.activeElement).toBe(screen.getByTestId('last'));
    key('Escape');
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(document.activeElement).toBe(opener);
  });
});

describe('JobEditor', () => {
  it('closes on Escape at once when nothing was changed', () => {
    let closed = 0;
    render(<JobEditor job={null} onDone={() => closed++} />);
    key('Escape');
    expect(closed).toBe(1);
  });

  it('asks in the app’s dialog before Escape throws edits away, and keeps them on "Keep editing"', async () => {
    let closed = 0;
    render(
      <>
        <JobEditor job={null} onDone={() => closed++} />
        <ConfirmHost />
      </>,
    );
    fireEvent.change(screen.getByTestId('job-name'), { target: { value: 'half-written' } });
    key('Escape');
    const dialog = await screen.findByTestId('confirm-dialog');
    expect(dialog.textContent).toMatch(/unsaved changes/);
    // The confirm dialog is the innermost: Escape answers it, not the editor underneath.
    await act(async () => key('Escape'));
    expect(screen.queryByTestId('confirm-dialog')).toBeNull();
    expect(closed).toBe(0);
    expect((screen.getByTestId('job-name') as HTMLInputElement).value).toBe('half-written');

    key('Escape');
    await act(async () => fireEvent.click(await screen.findByTestId('confirm-ok')));
    expect(closed).toBe(1);
  });
});

describe('confirmRemove', () => {
  it('asks in the app’s dialog and removes only on yes', async () => {
    render(<ConfirmHost />);
    let removed = 0;
    let done = useUi.getState().confirmRemove('Remove web1?', 'web1', async () => void removed++);
    await act(async () => fireEvent.click(await screen.findByTestId('confirm-cancel')));
    await done;
    expect(removed).toBe(0);
    done = useUi.getState().confirmRemove('Remove web1?', 'web1', async () => void removed++);
    expect((await screen.findByTestId('confirm-message')).textContent).toBe('Remove web1?');
    await act(async () => fireEvent.click(screen.getByTestId('confirm-ok')));
    await done;
    expect(removed).toBe(1);
  });
});
