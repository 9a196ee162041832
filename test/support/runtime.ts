import type { RuntimeContext } from '../../src/runtime/executionRegistry.ts';

/** A registered execution's context as the runtime sees it, with nothing set yet (tests of the runtime API). */
export function bareContext(id: string): RuntimeContext {
  return {
    executionId: `exec-${id}`,
    jobId: `job-${id}`,
    serverId: `srv-${id}`,
    input: 'in',
    event: {},
    output: undefined,
    outputSet: false,
    condition: null,
    changes: [],
  };
}
