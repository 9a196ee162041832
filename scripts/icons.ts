/**
 * npm run icons: every app icon the platforms need, generated from the one source image build/icon.svg:
 * PNGs 16–1024 (Linux), icon.icns (macOS) and icon.ico (Windows), into build/icons and build/.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { Resvg } from '@resvg/resvg-js';
import pngToIco from 'png-to-ico';

const buildDir = fileURLToPath(new URL('../build/', import.meta.url));
export const PNG_SIZES = [16, 24, 32, 48, 64, 128, 256, 512, 1024];

function render(svg: string, size: number): Buffer {
  return new Resvg(svg, { fitTo: { mode: 'width', value: size } }).render().asPng();
}

/** Apple's icns container: a header, then one (type, length, PNG) entry per size. */
function icns(pngs: Map<number, Buffer>): Buffer {
  const types: [string, number][] = [
    ['icp4', 16],
    ['icp5', 32],
    ['icp6', 64],
    ['ic07', 128],
    ['ic08', 256],
    ['ic09', 512],
    ['ic10', 1024],
  ];
  const entries = types.map(([type, size]) => {
    const png = pngs.get(size)!;
    const head = Buffer.alloc(8);
    head.write(type, 0, 'ascii');
    head.writeUInt32BE(png.length + 8, 4);
    return Buffer.concat([head, png]);
  });
  const header = Buffer.alloc(8);
  header.write('icns', 0, 'ascii');
  header.writeUInt32BE(8 + entries.reduce((n, e) => n + e.length, 0), 4);
  return Buffer.concat([header, ...entries]);
}

export async function generateIcons(): Promise<void> {
  const svg = readFileSync(`${buildDir}icon.svg`, 'utf8');
  mkdirSync(`${buildDir}icons`, { recursive: true });
  const pngs = new Map(PNG_SIZES.map((size) => [size, render(svg, size)]));
  for (const [size, png] of pngs) writeFileSync(`${buildDir}icons/${size}x${size}.png`, png);
  writeFileSync(`${buildDir}icon.png`, pngs.get(1024)!);
  writeFileSync(`${buildDir}icon.icns`, icns(pngs));
  writeFileSync(
    `${buildDir}icon.ico`,
    await pngToIco([16, 24, 32, 48, 64, 128, 256].map((s) => pngs.get(s)!)),
  );
}

if (import.meta.main) await generateIcons();
