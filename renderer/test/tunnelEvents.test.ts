/** Tunnel events reach the live store (the live view's cards show each server's tunnel state). */
import { describe, expect, it } from 'vitest';

import { routeEvent } from '../src/store/events.ts';
import { useLive } from '../src/store/live.ts';

describe('tunnel events', () => {
  it('keep the latest state per server, with its port and error', () => {
    routeEvent({ type: 'tunnel', serverId: 's1', state: 'idle', remotePort: null, error: null });
    expect(useLive.getState().tunnels.s1).toEqual({ state: 'idle', remotePort: null, error: null });
    routeEvent({ type: 'tunnel', serverId: 's1', state: 'forwarding', remotePort: 40123, error: null });
    routeEvent({ type: 'tunnel', serverId: 's2', state: 'failed', remotePort: null, error: 'refused' });
    expect(useLive.getState().tunnels).toEqual({
      s1: { state: 'forwarding', remotePort: 40123, error: null },
      s2: { state: 'failed', remotePort: null, error: 'refused' },
    });
  });
});
