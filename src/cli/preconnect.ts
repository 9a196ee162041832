/**
 * `cronium run JOB --on SERVER` dials SERVER while it loads the rest of itself: the SSH handshake's
 * server-side time (key exchange, login) is spent waiting for the network, and the CLI has ~100 ms of
 * module loading and service set-up to do meanwhile. This module needs only the store and ssh2; the
 * connection is handed to the service's pool (ConnectionPool.adopt), where the run's execution takes it.
 *
 * Only the plain case is dialed early: the local SQLite store that exists already, one server named by
 * its id or name, logging in with a key file without passphrase or with the agent, directly (no jump
 * server). Anything else (and any error here) dials as before, when the execution starts: the secrets,
 * the keychain and the rules for the rest stay where they are.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { HostKeyVerifier } from '../ssh/hostKeys.ts';
import { SshConnection } from '../ssh/sshConnection.ts';
import { KnownHostRepo } from '../store/knownHostRepo.ts';
import { openStore } from '../store/openStore.ts';
import { ServerRepo } from '../store/serverRepo.ts';

/** A dial under way, for ConnectionPool.adopt(). */
export interface EarlyDial {
  /** The saved server's id (the pool's key). */
  serverId: string;
  /** Resolves with the open connection; rejects with SshConnection.connect's error. */
  connection: Promise<SshConnection>;
  /** Stops the dial (the service closed before an execution took it). */
  abort: (reason: unknown) => void;
}

/**
 * Starts dialing `serverRef` (a saved server's id or name) from the data directory's store, and returns
 * once the dial is under way; null when this server is not dialed early (see the module's comment).
 * Never throws: a failure of the dial itself is the connection's (what the execution reports).
 * @param agentSocket the SSH agent's socket for agent logins (the service's, SSH_AUTH_SOCK).
 */
export async function dialEarly(options: {
  dataDir: string;
  serverRef: string;
  agentSocket: string | undefined;
}): Promise<EarlyDial | null> {
  // No data directory yet: opening the store would make one; the run fails as before.
  if (!existsSync(join(options.dataDir, 'cronium.db'))) return null;
  let db;
  try {
    db = await openStore({ dataDir: options.dataDir });
  } catch {
    return null;
  }
  const close = () => void db.close().catch(() => {});
  try {
    const repo = new ServerRepo(db);
    const server = (await repo.get(options.serverRef)) ?? (await repo.getByName(options.serverRef));
    if (!server || server.jumpServerId) return (close(), null);
    let auth;
    if (server.authType === 'key' && !server.secret && server.keyPath)
      auth = { type: 'key' as const, privateKey: readFileSync(server.keyPath) };
    else if (server.authType === 'agent' && options.agentSocket)
      auth = { type: 'agent' as const, agentSocket: options.agentSocket };
    else return (close(), null);
    const controller = new AbortController();
    // A new host key is trusted as `cronium run` trusts it (accept-new), written to this store.
    const connection = SshConnection.connect(
      { label: server.name, host: server.host, port: server.port, username: server.username, auth },
      { hostKeys: new HostKeyVerifier(new KnownHostRepo(db), 'accept-new'), signal: controller.signal },
    );
    void connection.then(close, close);
    return { serverId: server.id, connection, abort: (reason) => controller.abort(reason) };
  } catch {
    close();
    return null;
  }
}
