import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { inject } from 'vitest';

import type { Execution, LogChunk } from '../../src/core/domain.ts';
import { CroniumService, type ServiceOptions } from '../../src/service/service.ts';
import { createTestUser, type TestHosts } from './sshHosts.ts';

export function hosts(): TestHosts {
  return inject('hosts');
}

/**
 * The test hosts as seen by a test user of this file's own (its own home, processes and password), so
 * files running in parallel never disturb each other's ~/.cronium. Call removeUser() in afterAll.
 */
export function ownHosts(tag: string): TestHosts & { removeUser: () => void } {
  const shared = hosts();
  const own = createTestUser(shared, tag);
  return { ...shared, user: own.user, password: own.password, removeUser: own.remove };
}

export function tempDir(prefix = 'cronium-test-'): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** A service on a fresh data directory, with servers for the test hosts saved (key auth). */
export async function serviceWithHosts(
  options: Partial<ServiceOptions> = {},
  h: TestHosts = hosts(),
): Promise<{
  service: CroniumService;
  dir: string;
  close: () => Promise<void>;
}> {
  const dir = tempDir();
  const service = await CroniumService.open({
    dataDir: dir.path,
    unknownHostKeys: 'accept-new',
    killGraceSec: 1,
    runtimePort: 0,
    readyTimeoutMs: 5000,
    ...options,
  });
  for (const host of Object.values(h.hosts)) {
    await service.createServer({
      name: host.name,
      host: host.address,
      port: host.port,
      username: h.user,
      auth: { type: 'key', keyPath: h.keyPath },
    });
  }
  return {
    service,
    dir: dir.path,
    close: async () => {
      await service.close();
      dir.remove();
    },
  };
}

export async function runJob(
  service: CroniumService,
  job: {
    name?: string;
    language: 'bash' | 'python' | 'node';
    script: string;
    timeoutSec?: number;
    env?: { key: string; value: string; secret?: boolean }[];
    helperMode?: 'auto' | 'api' | 'bundled';
  },
  servers: string[],
  extra: Record<string, unknown> = {},
) {
  const name = job.name ?? `job-${Math.random().toString(36).slice(2, 10)}`;
  const created = await service.createJob({ ...job, name });
  const run = await service.startRun({ jobId: created.id, serverIds: servers, ...extra });
  const finished = await service.waitForRun(run.id);
  const executions: Execution[] = [];
  for (const id of finished.executionIds) executions.push(await service.getExecution(id));
  const logs: Record<string, LogChunk[]> = {};
  for (const e of executions) logs[e.serverName] = await service.readLog(e.id, -1, 1_000_000);
  const text = (server: string, stream?: string) =>
    (logs[server] ?? [])
      .filter((c) => !stream || c.stream === stream)
      .map((c) => c.text)
      .join('');
  return { run: finished, executions, exec: executions[0]!, logs, text };
}
