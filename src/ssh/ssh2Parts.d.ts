/**
 * The two parts of ssh2 the app uses, loaded by their own paths rather than through its index: the index
 * also loads its server, key generator and HTTP agents (and with them Node's http, https and tls), about
 * a third of ssh2's start-up, on every `cronium` command that connects. Same objects as ssh2.Client and
 * ssh2.utils.parseKey (ssh2's lib/index.js re-exports them).
 */
declare module 'ssh2/lib/client.js' {
  import type { Client } from 'ssh2';

  const ClientClass: typeof Client;
  export default ClientClass;
}

declare module 'ssh2/lib/protocol/keyParser.js' {
  import type { utils } from 'ssh2';

  const keyParser: { parseKey: typeof utils.parseKey };
  export default keyParser;
}
