// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';

import { setTransport, type Transport } from '../src/api/client.ts';
import type { MethodName, Result } from '../src/api/types.ts';
import { HelperBadge } from '../src/components/common.tsx';
import { ServerForm } from '../src/components/ServersView.tsx';

afterEach(cleanup);

/** A transport that answers like the core would, recording what was called. */
function fakeTransport(
  answers: Partial<Record<MethodName, (args: unknown[]) => Result<unknown>>>,
): Transport & { calls: [MethodName, unknown[]][] } {
  const calls: [MethodName, unknown[]][] = [];
  return {
    calls,
    call: async (method, args) => {
      calls.push([method, args]);
      return answers[method]?.(args) ?? { ok: true, value: [] };
    },
    subscribe: () => () => {},
  };
}

describe('HelperBadge', () => {
  it('flags a fallback to bundled mode with its reason', () => {
    render(<HelperBadge mode="bundled" reason="the server refused remote port forwarding" />);
    const badge = screen.getByTestId('fallback-badge');
    expect(badge.textContent).toMatch(/fell back/);
    expect(badge.getAttribute('title')).toBe(
      'Helpers fell back to bundled mode: the server refused remote port forwarding',
    );
  });

  it('shows the plain mode otherwise, and nothing before a run', () => {
    const { container, rerender } = render(<HelperBadge mode="api" reason={null} />);
    expect(container.textContent).toBe('api');
    rerender(<HelperBadge mode={null} reason={null} />);
    expect(container.textContent).toBe('');
  });
});

describe('ServerForm', () => {
  it('shows the core’s per-field messages under the fields, and does not close', async () => {
    const transport = fakeTransport({
      createServer: () => ({
        ok: false,
        error: {
          kind: 'invalid_input',
          message: 'Invalid input',
          fields: {
            name: 'name is required',
            host: 'host is required',
            'auth.keyPath': 'key file is required',
          },
        },
      }),
    });
    setTransport(transport);
    let closed = false;
    render(<ServerForm server={null} onDone={() => (closed = true)} />);
    fireEvent.click(screen.getByTestId('server-save'));
    const errors = await screen.findAllByTestId('field-error');
    expect(errors.map((e) => e.textContent)).toEqual([
      'name is required',
      'host is required',
      'key file is required',
    ]);
    expect(closed).toBe(false);
    expect(transport.calls.filter(([m]) => m === 'createServer')).toHaveLength(1);
  });

  it('sends what was typed, as the contract’s input', async () => {
    const transport = fakeTransport({ createServer: () => ({ ok: true, value: { name: 'web1' } }) });
    setTransport(transport);
    let closed = false;
    render(<ServerForm server={null} onDone={() => (closed = true)} />);
    fireEvent.change(screen.getByTestId('server-name'), { target: { value: 'web1' } });
    fireEvent.change(screen.getByTestId('server-host'), { target: { value: '10.0.0.11' } });
    fireEvent.change(screen.getByTestId('server-user'), { target: { value: 'deploy' } });
    fireEvent.change(screen.getByTestId('server-auth'), { target: { value: 'agent' } });
    fireEvent.click(screen.getByTestId('server-save'));
    await screen.findByTestId('server-save');
    await new Promise((r) => setTimeout(r, 10));
    const [, args] = transport.calls.find(([m]) => m === 'createServer')!;
    expect(args[0]).toMatchObject({
      name: 'web1',
      host: '10.0.0.11',
      username: 'deploy',
      auth: { type: 'agent' },
      jumpServerId: null,
    });
    expect(closed).toBe(true);
  });
});
