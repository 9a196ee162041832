/**
 * Whether Electron's safeStorage really encrypts. On Linux without a keyring (no Secret Service, no
 * KWallet), Chromium falls back to the `basic_text` backend: "encryption" with a hard-coded password, i.e.
 * none (Electron docs, safeStorage.getSelectedStorageBackend). isEncryptionAvailable() is still true there.
 */

/** The part of Electron's safeStorage this check uses (getSelectedStorageBackend exists on Linux only). */
export interface SafeStorageBackendLike {
  isEncryptionAvailable(): boolean;
  getSelectedStorageBackend?(): string;
}

/**
 * True when secrets sealed by safeStorage are protected by an OS keychain: encryption is available and,
 * on Linux, the backend is not `basic_text` (nor `unknown`, i.e. not decided yet). The secret store's
 * wiring calls this instead of isEncryptionAvailable().
 */
export function safeStorageEncrypts(
  safeStorage: SafeStorageBackendLike,
  platform: NodeJS.Platform = process.platform,
): boolean {
  if (!safeStorage.isEncryptionAvailable()) return false;
  if (platform !== 'linux') return true;
  const backend = safeStorage.getSelectedStorageBackend?.() ?? 'unknown';
  return backend !== 'basic_text' && backend !== 'unknown';
}
