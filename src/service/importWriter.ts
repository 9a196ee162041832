/** The import's writer: saves the planned servers and trusts their keys (src/service/import.ts plans). */
import type { ImportedServer, ImportPlan } from '../contract.ts';
import { type Database, transaction } from '../store/database.ts';
import type { KnownHostRepo } from '../store/knownHostRepo.ts';
import type { ServerService } from './servers.ts';

/** Writes the chosen servers (jump hops first) and trusts their new keys, all in one transaction. */
export function writeImport(
  deps: { db: Database; servers: ServerService; knownHosts: KnownHostRepo },
  plan: ImportPlan,
): void {
  const { servers: service, knownHosts, db } = deps;
  const byName = new Map(plan.servers.map((s) => [s.name, s]));
  const done = new Set<string>();
  const write = (s: ImportedServer) => {
    if (done.has(s.name)) return;
    done.add(s.name);
    if (s.jump) write(byName.get(s.jump)!);
    if (s.action !== 'unchanged') {
      const existing = service.refs.byName(s.name);
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
      if (existing) service.update(existing.id, input);
      else service.create(input);
    }
    if (s.hostKey?.status === 'new')
      knownHosts.trust(s.host, s.port, s.hostKey.keyType, s.hostKey.fingerprint);
  };
  transaction(db, () => {
    for (const s of plan.servers) if (s.selected) write(s);
  });
}
