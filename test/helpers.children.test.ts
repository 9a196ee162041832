/**
 * A program a job starts, in any of the three languages, finds the helpers: `import cronium` (PYTHONPATH),
 * require("cronium") (NODE_PATH) and the Bash functions (BASH_ENV) are set for every script, whatever its
 * own language — also for a script that never names the helpers, which `auto` runs bundled at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { CroniumService } from '../src/service/service.ts';
import { ownHosts, runJob, serviceWithHosts } from './support/fixtures.ts';

const h = ownHosts('children');
let service: CroniumService;
let close: () => Promise<void>;
beforeAll(async () => {
  ({ service, close } = await serviceWithHosts({}, h));
});
afterAll(async () => {
  await close();
  h.removeUser();
});

const b64 = (text: string) => Buffer.from(text).toString('base64');
const PY_CHILD = 'import cronium\ncronium.setVariable("from_py", "py ok")\n';
const JS_CHILD =
  'const c = require("cronium");\nPromise.resolve(c.setVariable("from_js", "js ok")).then(() => {});\n';
const SH_CHILD = 'cronium_setVariable from_sh "sh ok"\n';

describe('helpers in programs a job starts', () => {
  it.each(['auto', 'api', 'bundled'] as const)(
    'a Bash job (helpers %s) whose text never names them starts Python, Node.js and Bash children that set variables',
    async (helperMode) => {
      for (const key of ['from_py', 'from_js', 'from_sh'])
        if ((await service.listVariables()).some((v) => v.key === key)) await service.removeVariable(key);
      // The children's code travels base64-encoded, so the job's own text never says the helpers' name.
      const script = [
        `echo ${b64(PY_CHILD)} | base64 -d > child.py && python3 child.py`,
        `echo ${b64(JS_CHILD)} | base64 -d > child.js && node child.js`,
        `echo ${b64(SH_CHILD)} | base64 -d > child.sh && bash child.sh`,
      ].join('\n');
      expect(script.toLowerCase()).not.toContain('cronium');
      const { exec, text } = await runJob(service, { language: 'bash', script, helperMode }, ['h1']);
      expect(text('h1', 'stderr')).toBe('');
      expect(exec.status).toBe('succeeded');
      expect(await service.getVariableValue('from_py')).toBe('py ok');
      expect(await service.getVariableValue('from_js')).toBe('js ok');
      expect(await service.getVariableValue('from_sh')).toBe('sh ok');
    },
  );
});
