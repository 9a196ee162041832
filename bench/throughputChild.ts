/** Runs one job in a fresh process and prints its wall time and peak memory (for bench/run.ts). */
import { CroniumService } from '../src/service/service.ts';

const [dataDir, jobName, serverName] = process.argv.slice(2) as [string, string, string];
const service = new CroniumService({ dataDir, unknownHostKeys: 'accept-new' });
const job = service.getJob(jobName);
const start = performance.now();
const run = service.startRun({ jobId: job.id, serverIds: [serverName] });
const done = await service.waitForRun(run.id);
const ms = performance.now() - start;
const execution = service.getExecution(done.executionIds[0]!);
await service.close();
process.stdout.write(
  JSON.stringify({ ms, status: execution.status, maxRssMB: process.resourceUsage().maxRSS / 1024 }) + '\n',
);
