import { createRequire } from 'node:module';

/** The part of an OS keychain the secret store uses: one string per account under the service "Cronium". */
export interface Keychain {
  /** For messages: "Secret Service", "macOS Keychain", "Windows Credential Manager". */
  readonly name: string;
  /** The stored value, or null when there is none. Throws when the keychain cannot be reached. */
  get(account: string): string | null;
  /** Stores a value. Throws when the keychain cannot be reached or refuses. */
  set(account: string, value: string): void;
}

const SERVICE = 'Cronium';

interface KeyringModule {
  Entry: new (
    service: string,
    account: string,
    options?: { linux?: { store?: 'secret-service' | 'keyutils' } },
  ) => { getPassword(): string | null; setPassword(password: string): void };
}

/**
 * The OS keychain through `@napi-rs/keyring` (prebuilt N-API binary: macOS Keychain, Windows Credential
 * Manager, the Linux Secret Service). On Linux the entry is pinned to the Secret Service: the library's
 * other fallback, the kernel keyring, forgets everything at logout. Returns the reason instead when the
 * module cannot be loaded; `CRONIUM_SECRET_STORE=key-file` turns the keychain off on purpose.
 */
export function osKeychain(
  env: NodeJS.ProcessEnv = process.env,
): { keychain: Keychain; reason: null } | { keychain: null; reason: string } {
  if (env.CRONIUM_SECRET_STORE === 'key-file')
    return { keychain: null, reason: 'CRONIUM_SECRET_STORE=key-file turns the OS keychain off' };
  let keyring: KeyringModule;
  try {
    // Loaded at run time so that a platform without the binary still runs (with the key file).
    keyring = createRequire(import.meta.url)('@napi-rs/keyring') as KeyringModule;
  } catch (err) {
    return { keychain: null, reason: `the keychain module could not be loaded (${(err as Error).message})` };
  }
  const name =
    process.platform === 'darwin'
      ? 'macOS Keychain'
      : process.platform === 'win32'
        ? 'Windows Credential Manager'
        : 'Secret Service';
  const entry = (account: string) =>
    new keyring.Entry(SERVICE, account, { linux: { store: 'secret-service' } });
  return {
    reason: null,
    keychain: {
      name,
      get: (account) => entry(account).getPassword(),
      set: (account, value) => entry(account).setPassword(value),
    },
  };
}
