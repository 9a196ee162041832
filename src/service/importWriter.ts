/** The import's writer: saves the planned servers and trusts their keys (src/service/import.ts plans). */
import type { ImportedServer, ImportPlan } from '../contract.ts';
import { KnownHostRepo } from '../store/knownHostRepo.ts';
import type { Sql } from '../store/sql.ts';
import type { ServerService } from './servers.ts';

/** Writes the chosen servers (jump hops first) and trusts their new keys, all in one transaction. */
export async function writeImport(
  deps: { db: Sql; servers: ServerService; knownHosts: KnownHostRepo },
  plan: ImportPlan,
): Promise<void> {
  const byName = new Map(plan.servers.map((s) => [s.name, s]));
  // The data key is found (through the store) before the transaction, whose statements it would wait on.
  await deps.servers.unlockSecrets(
    plan.servers.filter((s) => s.selected && s.action === 'update').map((s) => s.name),
  );
  await deps.db.transaction(async (tx) => {
    // Every read and write of the import goes through the transaction.
    const service = deps.servers.on(tx);
    const knownHosts = new KnownHostRepo(tx);
    const done = new Set<string>();
    const write = async (s: ImportedServer): Promise<void> => {
      if (done.has(s.name)) return;
      done.add(s.name);
      if (s.jump) await write(byName.get(s.jump)!);
      if (s.action !== 'unchanged') {
        const existing = await service.refs.byName(s.name);
        const input = {
          name: s.name,
          host: s.host,
          port: s.port,
          username: s.username,
          auth: s.authType === 'key' ? { type: 'key', keyPath: s.keyPath } : { type: 'agent' },
          jumpServerId: s.jump,
          tags: existing?.tags ?? [],
          description:
            existing?.description ?? `Imported from ${s.hop ? 'a ProxyJump of' : 'Host'} ${s.source}`,
        };
        if (existing) await service.update(existing.id, input);
        else await service.create(input);
      }
      if (s.hostKey?.status === 'new')
        await knownHosts.trust(s.host, s.port, s.hostKey.keyType, s.hostKey.fingerprint);
    };
    for (const s of plan.servers) if (s.selected) await write(s);
  });
}
