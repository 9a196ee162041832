import { CroniumError } from '../src/core/errors.ts';
import { splitFormat, type SecretStore } from '../src/secrets/secretStore.ts';

/** The part of Electron's safeStorage this store uses (a fake stands in for it in tests). */
export interface SafeStorageLike {
  isEncryptionAvailable(): boolean;
  encryptString(plain: string): Buffer;
  decryptString(sealed: Buffer): string;
}

const FORMAT = 'ss1';

/**
 * Secrets sealed by the OS keychain through Electron's safeStorage. Refuses to store anything when the
 * keychain is not available rather than falling back to plain text. Secrets the headless CLI sealed
 * (its "v1" key file) are still read, through the fallback store.
 */
export class SafeStorageSecretStore implements SecretStore {
  readonly name = 'safe-storage';
  private readonly safeStorage: SafeStorageLike;
  private readonly fallback: SecretStore | null;

  constructor(safeStorage: SafeStorageLike, fallback: SecretStore | null) {
    this.safeStorage = safeStorage;
    this.fallback = fallback;
  }

  async encrypt(plain: string): Promise<string> {
    if (!this.safeStorage.isEncryptionAvailable()) {
      throw new CroniumError(
        'secrets_unavailable',
        'The system keychain is not available, so Cronium will not store this secret (it would be readable on disk). Unlock or set up the OS keychain, then try again.',
      );
    }
    return `${FORMAT}:${this.safeStorage.encryptString(plain).toString('base64')}`;
  }

  async decrypt(sealed: string): Promise<string> {
    const [format] = splitFormat(sealed);
    if (format !== FORMAT && this.fallback) return this.fallback.decrypt(sealed);
    return this.openLegacy(sealed);
  }

  /**
   * Opens an "ss1:" value now (safeStorage answers synchronously): what the shared secret store calls to
   * re-seal values an older version stored this way.
   * @throws CroniumError secrets_unavailable for another format or when the keychain is not available.
   */
  openLegacy(sealed: string): string {
    const [format, payload] = splitFormat(sealed);
    if (format !== FORMAT) {
      throw new CroniumError(
        'secrets_unavailable',
        `A secret was stored in another format (${format}) and cannot be read here.`,
      );
    }
    if (!this.safeStorage.isEncryptionAvailable())
      throw new CroniumError(
        'secrets_unavailable',
        'The system keychain is not available to read a stored secret.',
      );
    return this.safeStorage.decryptString(Buffer.from(payload, 'base64'));
  }
}
