/** Saved servers and the host keys they were first seen with. */
import type { AuthType, ServerHelperMode } from './values.ts';

export interface Server {
  id: string;
  name: string;
  host: string;
  port: number;
  username: string;
  authType: AuthType;
  keyPath: string | null;
  /** True when a password or passphrase is stored (the value itself never leaves the core). */
  hasSecret: boolean;
  jumpServerId: string | null;
  tags: string[];
  description: string;
  /** How the helpers of scripts run here reach the app (see SERVER_HELPER_MODES). */
  helperMode: ServerHelperMode;
  lastCheck: { online: boolean; os: string | null; at: number; error: string | null } | null;
  createdAt: number;
  updatedAt: number;
}

export interface KnownHost {
  host: string;
  port: number;
  keyType: string;
  fingerprint: string;
  firstSeen: number;
}
