/** Key pairs for the tests' in-process ssh2 servers and clients. */
import ssh2 from 'ssh2';

/**
 * An ed25519 key pair in OpenSSH format that ssh2 reads back. ssh2's generateKeyPairSync strips leading
 * zero bytes off the 32-byte public key, so about one pair in 256 is malformed ("Malformed OpenSSH private
 * key" when a Server is built with it; mscdex/ssh2#1513): a test that fails at random. Generates again
 * until both halves parse.
 */
export function ed25519KeyPair(): { private: string; public: string } {
  for (;;) {
    const pair = ssh2.utils.generateKeyPairSync('ed25519');
    const readable = [pair.private, pair.public].every((k) => !(ssh2.utils.parseKey(k) instanceof Error));
    if (readable) return pair;
  }
}
