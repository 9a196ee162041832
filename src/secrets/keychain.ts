import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

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

export interface KeyringModule {
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
    keyring = loadKeyring();
  } catch (err) {
    return { keychain: null, reason: `the keychain module could not be loaded (${(err as Error).message})` };
  }
  return { reason: null, keychain: keychainFrom(keyring) };
}

/**
 * @napi-rs/keyring from node_modules (sources, npm installs); in the packaged app, which has no
 * node_modules, its N-API binary for this platform from resources/keyring (electron-builder's
 * extraResources; the archive is resources/app.asar, this bundle is resources/app.asar/out/app/*.js).
 * Throws when neither loads.
 */
export function loadKeyring(
  packagedDir = fileURLToPath(new URL('../../../keyring/', import.meta.url)),
): KeyringModule {
  const require = createRequire(import.meta.url);
  try {
    return require('@napi-rs/keyring') as KeyringModule;
  } catch (err) {
    const binary = packagedBinary(packagedDir);
    if (!binary) throw err;
    return require(binary) as KeyringModule;
  }
}

/** The keyring binary built for this OS and CPU (e.g. keyring-linux-x64-gnu/keyring.linux-x64-gnu.node). */
export function packagedBinary(dir: string): string | null {
  const prefix = `keyring.${process.platform}-${process.arch}`;
  try {
    for (const sub of readdirSync(dir, { withFileTypes: true }))
      if (sub.isDirectory())
        for (const file of readdirSync(join(dir, sub.name)))
          if (file.startsWith(prefix) && file.endsWith('.node') && !file.includes('-musl'))
            return join(dir, sub.name, file);
  } catch {
    // no such folder: not the packaged app
  }
  return null;
}

function keychainFrom(keyring: KeyringModule): Keychain {
  const name =
    process.platform === 'darwin'
      ? 'macOS Keychain'
      : process.platform === 'win32'
        ? 'Windows Credential Manager'
        : 'Secret Service';
  const entry = (account: string) =>
    new keyring.Entry(SERVICE, account, { linux: { store: 'secret-service' } });
  return {
    name,
    get: (account) => entry(account).getPassword(),
    set: (account, value) => entry(account).setPassword(value),
  };
}
