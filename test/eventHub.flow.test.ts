import { describe, expect, it } from 'vitest';

import { EventHub } from '../src/core/eventHub.ts';

describe('EventHub flow control', () => {
  it('reports subscribers behind until every one has caught up', async () => {
    const hub = new EventHub();
    expect(hub.whenCaughtUp()).toBeNull();
    let releaseA!: () => void;
    let rejectB!: (err: Error) => void;
    hub.slowDown(new Promise<void>((resolve) => (releaseA = resolve)));
    hub.slowDown(new Promise<void>((_, reject) => (rejectB = reject)));
    const caughtUp = hub.whenCaughtUp();
    expect(caughtUp).not.toBeNull();
    let settled = false;
    void caughtUp!.then(() => (settled = true));
    releaseA();
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toBe(false);
    expect(hub.whenCaughtUp()).not.toBeNull();
    // A subscriber that went away (its promise rejected) no longer holds the producers.
    rejectB(new Error('gone'));
    await caughtUp;
    expect(settled).toBe(true);
    expect(hub.whenCaughtUp()).toBeNull();
  });
});
