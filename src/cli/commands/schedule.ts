/** `cronium schedule add|list|show|remove|pause|resume`. */
import type { Command } from 'commander';

import type { Schedule, ScheduleFire } from '../../core/domain.ts';
import { action, type CommandContext, type Host } from '../context.ts';
import { table, when } from '../format.ts';
import { out } from '../io.ts';
import { collect, parseJsonOption, parseSetOptions, splitList } from '../parse.ts';

interface AddOptions {
  job: string;
  cron: string;
  on?: string;
  set?: string[];
  input?: string;
  tz?: string;
  overlap?: string;
  missed?: string;
  paused?: boolean;
}

/** Targets as names: server ids shown by name, `tag:NAME` as written, the job's defaults when none. */
async function targetNames(host: Host, s: Schedule): Promise<string> {
  if (s.targets.length === 0) return "job's servers";
  const names: string[] = [];
  for (const t of s.targets) {
    if (t.startsWith('tag:')) names.push(t);
    else
      try {
        names.push((await host.getServer(t)).name);
      } catch {
        names.push(`${t.slice(0, 8)} (removed)`);
      }
  }
  return names.join(',');
}

/** What the last occurrence came to: the run's status, a skip, or the error. */
function lastText(s: Schedule): string {
  if (s.lastOutcome === null) return '-';
  if (s.lastOutcome === 'started') return s.lastResult ?? 'started';
  if (s.lastOutcome === 'error') return 'error';
  return s.lastOutcome === 'skipped_overlap' ? 'skipped (overlap)' : 'skipped (missed)';
}

function showSchedule(targets: string, s: Schedule, fires: ScheduleFire[]): string {
  const lines = [
    `name:      ${s.name}`,
    `job:       ${s.jobName ?? `${s.jobId} (removed)`}`,
    `cron:      ${s.cron}`,
    `time zone: ${s.timezone ?? 'local'}`,
    `on:        ${targets}`,
    `params:    ${
      Object.entries(s.params)
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(' ') || '-'
    }`,
    `input:     ${s.input === null ? '-' : JSON.stringify(s.input)}`,
    `overlap:   ${s.overlap}`,
    `missed:    ${s.missed}`,
    `state:     ${s.enabled ? 'enabled' : 'paused'}`,
    `next:      ${s.nextFires.map((t) => when(t)).join(', ') || '-'}`,
    `last:      ${s.lastFireAt === null ? '-' : `${when(s.lastFireAt)} ${lastText(s)}${s.lastRunId ? ` (run ${s.lastRunId.slice(0, 8)})` : ''}`}`,
  ];
  if (s.lastError) lines.push(`           ${s.lastError}`);
  if (fires.length) {
    lines.push('--- recent occurrences ---');
    lines.push(
      table([
        ['OCCURRENCE', 'OUTCOME', 'RUN', 'NOTE'],
        ...fires.map((f) => [when(f.fireAt), f.outcome, f.runId?.slice(0, 8) ?? '-', f.message ?? '']),
      ]).trimEnd(),
    );
  }
  return lines.join('\n') + '\n';
}

export function register(cmd: Command, ctx: CommandContext): void {
  const { io } = ctx;
  const global = () => ctx.global();

  cmd
    .command('add')
    .argument('<name>')
    .description('save a schedule: run a job by a cron expression')
    .requiredOption('--job <job>', 'the job to run')
    .requiredOption(
      '--cron <expr>',
      'cron expression: 5 fields, 6 with seconds first, or @hourly, @daily, @weekly, @monthly, @yearly',
    )
    .option('--on <targets>', "servers and tag:NAME, comma-separated (default: the job's own)")
    .option('--set <name=value>', 'a job parameter (repeatable)', collect)
    .option('--input <json>', "input for the script (default: the job's)")
    .option('--tz <zone>', 'IANA time zone, e.g. Europe/Berlin (default: local time)')
    .option('--overlap <policy>', 'skip (default) or allow: while the previous run still runs')
    .option('--missed <policy>', 'skip (default) or run-once: occurrences passed while nothing was firing')
    .option('--paused', 'save it paused')
    .action(
      action(ctx, async (host, name: string, o: AddOptions) => {
        const job = await host.getJob(o.job);
        const schedule = await host.createSchedule({
          name,
          jobId: job.id,
          cron: o.cron,
          timezone: o.tz ?? null,
          targets: o.on === undefined ? [] : splitList(o.on),
          params: parseSetOptions(o.set),
          input: o.input === undefined ? null : parseJsonOption(o.input, 'input'),
          // The service holds the values to the policies' rules (invalid_input naming the field).
          overlap: o.overlap as never,
          missed: o.missed as never,
          enabled: !o.paused,
        });
        return out(
          io,
          global(),
          schedule,
          () =>
            `Saved schedule ${schedule.name} (${schedule.cron}${schedule.timezone ? ` ${schedule.timezone}` : ''}): ` +
            (schedule.nextFires[0] ? `next ${when(schedule.nextFires[0])}.\n` : 'paused.\n'),
        );
      }),
    );

  cmd
    .command('list')
    .description('list schedules with their next and last fires')
    .action(
      action(ctx, async (host) => {
        const schedules = await host.listSchedules();
        return out(io, global(), schedules, () =>
          schedules.length
            ? table([
                ['NAME', 'JOB', 'CRON', 'ZONE', 'STATE', 'NEXT', 'LAST'],
                ...schedules.map((s) => [
                  s.name,
                  s.jobName ?? '(removed)',
                  s.cron,
                  s.timezone ?? 'local',
                  s.enabled ? 'enabled' : 'paused',
                  s.nextFires[0] ? when(s.nextFires[0]) : '-',
                  lastText(s),
                ]),
              ])
            : 'No schedules yet. Add one with "cronium schedule add".\n',
        );
      }),
    );

  cmd
    .command('show')
    .argument('<name>')
    .description('one schedule and its recent occurrences')
    .action(
      action(ctx, async (host, name: string) => {
        const schedule = await host.getSchedule(name);
        const fires = await host.listScheduleFires(schedule.id);
        const targets = await targetNames(host, schedule);
        return out(io, global(), { ...schedule, fires }, () => showSchedule(targets, schedule, fires));
      }),
    );

  cmd
    .command('remove')
    .argument('<name>')
    .description('remove a schedule (the runs it started stay in the history)')
    .action(
      action(ctx, async (host, name: string) => {
        const schedule = await host.getSchedule(name);
        await host.removeSchedule(schedule.id);
        return out(io, global(), { removed: schedule.name }, () => `Removed schedule ${schedule.name}.\n`);
      }),
    );

  for (const [verb, text] of [
    ['pause', 'stop firing a schedule until resumed'],
    ['resume', 'fire a paused schedule again, from now on'],
  ] as const) {
    cmd
      .command(verb)
      .argument('<name>')
      .description(text)
      .action(
        action(ctx, async (host, name: string) => {
          const schedule =
            verb === 'pause' ? await host.pauseSchedule(name) : await host.resumeSchedule(name);
          return out(io, global(), schedule, () =>
            verb === 'pause'
              ? `Paused schedule ${schedule.name}.\n`
              : `Resumed schedule ${schedule.name}: next ${when(schedule.nextFires[0] ?? null)}.\n`,
          );
        }),
      );
  }
}
