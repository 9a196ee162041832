/**
 * npm run bench [-- SECTION...]: every bench, or the sections named — `startup`, `fanout`, `bulk`,
 * `inprocess`, `store` (bench/run.ts), `ui` (bench/renderer.ts, Chromium), `workers` (bench/workers.ts,
 * team mode). One entry point, so that `npm run bench -- bulk` runs the bulk section only (npm appends
 * the arguments to the last command of a script, which a chain of three benches handed to the wrong one).
 */
import { spawnSync } from 'node:child_process';

const RUN_SECTIONS = ['startup', 'fanout', 'bulk', 'inprocess', 'store'];
const asked = process.argv.slice(2);
const unknown = asked.filter((s) => !RUN_SECTIONS.includes(s) && s !== 'ui' && s !== 'workers');
if (unknown.length > 0) {
  console.error(
    `unknown bench section: ${unknown.join(', ')} (sections: ${[...RUN_SECTIONS, 'ui', 'workers'].join(', ')})`,
  );
  process.exit(2);
}
const all = asked.length === 0;
const runSections = asked.filter((s) => RUN_SECTIONS.includes(s));
const steps: string[][] = [];
if (all || runSections.length > 0) steps.push(['bench/run.ts', ...runSections]);
if (all || asked.includes('ui')) steps.push(['bench/renderer.ts']);
if (all || asked.includes('workers')) steps.push(['bench/workers.ts']);
for (const args of steps) {
  const { status } = spawnSync(process.execPath, args, { stdio: 'inherit' });
  if (status !== 0) process.exit(status ?? 1);
}
