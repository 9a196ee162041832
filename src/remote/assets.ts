import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** A file uploaded to ~/.cronium/runner/<hash>/ on each host. */
export interface RemoteAsset {
  name: string;
  content: string;
}

export interface RemoteBundle {
  /** Content hash: a new version uploads into a new folder and never disturbs runs of the old one. */
  hash: string;
  assets: RemoteAsset[];
}

const ASSET_NAMES = [
  'runner.sh',
  'collect.sh',
  'stop.sh',
  'follow.sh',
  'helpers/cronium.sh',
  'helpers/cronium-stubs.sh',
  'helpers/python/cronium.py',
  'helpers/python/cronium_boot.py',
  'helpers/node/cronium.cjs',
  'helpers/node/modules/cronium/package.json',
];

let cached: RemoteBundle | null = null;

export function remoteBundle(): RemoteBundle {
  if (cached) return cached;
  const assets = ASSET_NAMES.map((name) => ({
    name,
    content: readFileSync(new URL(`./${name}`, import.meta.url), 'utf8'),
  }));
  const hash = createHash('sha256');
  for (const a of assets) hash.update(a.name).update('\0').update(a.content).update('\0');
  cached = { hash: hash.digest('hex').slice(0, 16), assets };
  return cached;
}
