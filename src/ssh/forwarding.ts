/**
 * Remote port forwarding (RFC 4254 section 7.1, `ssh -R`): the server listens on one of its ports and hands
 * each connection to it back to us as a channel. One RemoteForwards per connection owns ssh2's single
 * "tcp connection" listener and routes each incoming channel to the handler of the port it came in on.
 */
import type { Duplex } from 'node:stream';

import type { Client } from 'ssh2';

import { CroniumError } from '../core/errors.ts';

/** Called with each connection the server forwards to us on a port (the stream is the channel). */
export type ForwardedStreamHandler = (stream: Duplex) => void;

/** The loopback address every remote forward binds on the host: nothing outside the host can reach it. */
const BIND_ADDRESS = '127.0.0.1';

export class RemoteForwards {
  private readonly handlers = new Map<number, ForwardedStreamHandler>();
  private listening = false;

  private readonly client: Client;
  private readonly label: string;

  constructor(client: Client, label: string) {
    this.client = client;
    this.label = label;
  }

  /**
   * Asks the server to listen on `port` of its 127.0.0.1 (0: a free port it picks) and to forward each
   * connection there to `onStream`. Resolves with the port bound on the host.
   * @throws CroniumError tunnel_refused when the server refuses (sshd_config(5) AllowTcpForwarding no,
   * the port taken); its `cause` is ssh2's error, whose message is the server's answer.
   */
  forwardIn(port: number, onStream: ForwardedStreamHandler): Promise<number> {
    this.listen();
    return new Promise((resolve, reject) => {
      this.client.forwardIn(BIND_ADDRESS, port, (err, bound) => {
        if (err) {
          const refused = /unable to bind|request failed|denied|prohibited/i.test(err.message);
          reject(
            new CroniumError(
              'tunnel_refused',
              refused
                ? `the server refused remote port forwarding (${port ? `is AllowTcpForwarding off in its sshd_config, or port ${port} taken?` : 'is AllowTcpForwarding off in its sshd_config?'})`
                : `the reverse tunnel to ${this.label} could not be opened: ${err.message}`,
              { cause: err },
            ),
          );
          return;
        }
        const actual = bound || port;
        this.handlers.set(actual, onStream);
        resolve(actual);
      });
    });
  }

  /**
   * Stops forwarding `port`: connections arriving from now on are refused at once, and the server is asked
   * to stop listening (when `connectionOpen`; its answer is not awaited, as nothing depends on it).
   */
  unforwardIn(port: number, connectionOpen: boolean): void {
    this.handlers.delete(port);
    if (connectionOpen) this.client.unforwardIn(BIND_ADDRESS, port, () => {});
  }

  private listen(): void {
    if (this.listening) return;
    this.listening = true;
    this.client.on('tcp connection', (info, accept, reject) => {
      const handler = this.handlers.get(info.destPort);
      if (!handler) return reject();
      handler(accept());
    });
  }
}
