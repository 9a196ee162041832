import type { TestProject } from 'vitest/node';

import { SshHostHarness, type TestHosts } from './sshHosts.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    hosts: TestHosts;
  }
}

let harness: SshHostHarness | null = null;

export async function setup(project: TestProject): Promise<void> {
  harness = new SshHostHarness();
  project.provide('hosts', await harness.start());
}

export function teardown(): void {
  harness?.stop();
}
