/**
 * Runs one job on one server: connect (pooled), deploy the runner if needed, stream the script's output,
 * enforce timeout and cancel, and record everything. One place moves the execution through its states:
 * queued → connecting → running → succeeded | failed | timed_out | cancelled | error.
 */
import type { Execution, ExecutionStatus, Language } from '../core/domain.ts';
import { CroniumError, toErrorValue } from '../core/errors.ts';
import type { EventHub } from '../core/eventHub.ts';
import type { RemoteBundle } from '../remote/assets.ts';
import type { ConnectionPool, Lease } from '../ssh/connectionPool.ts';
import type { ExecutionPatch, HistoryRepo } from '../store/historyRepo.ts';
import { ControlFilter } from './controlFilter.ts';
import { ensureDeployed, markStale, runnerDir } from './deploy.ts';
import { LogSink } from './logSink.ts';
import { exportLine, heredocFile, randomToken, shellQuote } from './shell.ts';

const INTERPRETERS: Record<Language, { command: string; file: string }> = {
  bash: { command: 'bash', file: 'script.sh' },
  python: { command: 'python3', file: 'script.py' },
  node: { command: 'node', file: 'script.js' },
};

export interface ExecutionPlan {
  executionId: string;
  runId: string;
  job: { id: string; name: string; language: Language; script: string; timeoutSec: number };
  /** Environment for the script, secrets decrypted (they travel on stdin only). */
  env: { key: string; value: string; secret: boolean }[];
  server: { id: string; name: string };
}

export interface ExecutorOptions {
  pool: ConnectionPool;
  history: HistoryRepo;
  hub: EventHub;
  bundle: RemoteBundle;
  /** Seconds between TERM and KILL when a script is cancelled or times out. */
  killGraceSec?: number;
}

type EndReason = { kind: 'timed_out' | 'cancelled' } | null;

export class Executor {
  private readonly killGraceSec: number;

  private readonly options: ExecutorOptions;

  constructor(options: ExecutorOptions) {
    this.options = options;
    this.killGraceSec = options.killGraceSec ?? 5;
  }

  async run(plan: ExecutionPlan, signal: AbortSignal): Promise<Execution> {
    const { history } = this.options;
    const id = plan.executionId;
    const secrets = plan.env.filter((e) => e.secret).map((e) => e.value);
    const log = new LogSink({ executionId: id, secrets, write: (chunks) => this.writeLog(chunks) });
    let lease: Lease | null = null;

    try {
      if (signal.aborted) throw new CroniumError('cancelled', 'Cancelled before it started.');
      this.patch(id, { status: 'connecting' });
      const connectStart = performance.now();
      lease = await this.options.pool.acquire(plan.server.id, signal);
      const connectMs = lease.fresh ? Math.round(performance.now() - connectStart) : 0;

      const deployStart = performance.now();
      await ensureDeployed(lease.connection, this.options.bundle);
      const deployMs = Math.round(performance.now() - deployStart);
      this.patch(id, { status: 'running', connectMs, deployMs });

      const scriptStart = performance.now();
      const outcome = await this.runScript(lease, plan, log, signal);
      const scriptMs = Math.round(performance.now() - scriptStart);
      this.finish(id, log, { ...outcome, scriptMs, collectMs: 0 });
    } catch (err) {
      const error = toErrorValue(err);
      if (error.kind === 'internal') log.system(`internal error: ${error.message}`);
      const status: ExecutionStatus = error.kind === 'cancelled' ? 'cancelled' : 'error';
      this.finish(id, log, { status, errorKind: error.kind, errorMessage: error.message });
    } finally {
      lease?.release();
      log.close();
    }
    return history.getExecution(id)!;
  }

  private async runScript(
    lease: Lease,
    plan: ExecutionPlan,
    log: LogSink,
    signal: AbortSignal,
  ): Promise<ExecutionPatch> {
    const { connection } = lease;
    const interpreter = INTERPRETERS[plan.job.language];
    let nonce = randomToken();
    const setup = this.buildSetup(plan, interpreter);
    while (setup.includes(nonce)) nonce = randomToken();
    const endMarker = `__CRONIUM_SETUP_END__${nonce}`;

    const command = `R=${runnerDir(this.options.bundle)}; if [ -f "$R/.complete" ]; then exec sh "$R/runner.sh" ${shellQuote(plan.executionId)} ${nonce}; fi; printf '\\036cronium:%s:runner_missing\\n' ${nonce} >&2; exit 254`;
    const proc = await connection.exec(command);

    let control: string | null = null;
    const filter = new ControlFilter(nonce, (message) => (control = message));
    proc.onStdout((data) => log.data('stdout', data));
    proc.onStderr((data) => {
      const rest = filter.push(data);
      if (rest.length) log.data('stderr', rest);
    });
    proc.write(`${setup}${endMarker}\n`);

    let ended: EndReason = null;
    let forceClose: NodeJS.Timeout | null = null;
    const stop = (kind: 'timed_out' | 'cancelled') => {
      if (ended) return;
      ended = { kind };
      log.system(
        kind === 'timed_out'
          ? `timed out after ${plan.job.timeoutSec} s: stopping the script`
          : 'cancelled: stopping the script',
      );
      proc.write('cancel\n');
      // A host that no longer answers must not hold the execution for ever.
      forceClose = setTimeout(() => proc.channel.close(), (this.killGraceSec + 10) * 1000);
    };
    const timer = setTimeout(() => stop('timed_out'), plan.job.timeoutSec * 1000);
    const onAbort = () => stop('cancelled');
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) onAbort();

    let result;
    try {
      result = await proc.exited;
    } finally {
      clearTimeout(timer);
      if (forceClose) clearTimeout(forceClose);
      signal.removeEventListener('abort', onAbort);
    }
    const tail = filter.end();
    if (tail.length) log.data('stderr', tail);

    const reason = ended as EndReason;
    if (control === 'runner_missing') {
      // Someone removed ~/.cronium since this connection deployed it: deploy again and retry once.
      markStale(connection, this.options.bundle);
      await ensureDeployed(connection, this.options.bundle);
      return this.runScript(lease, plan, log, signal);
    }
    const missing = (control as string | null)?.match(/^interpreter_missing (.+)$/);
    if (missing) {
      return {
        status: 'error',
        exitCode: result.code,
        errorKind: 'interpreter_missing',
        errorMessage: `${missing[1]} not found on ${plan.server.name}: install it or pick another language.`,
      };
    }
    if (reason?.kind === 'timed_out') {
      return {
        status: 'timed_out',
        exitCode: result.code,
        errorKind: 'timed_out',
        errorMessage: `Timed out after ${plan.job.timeoutSec} s; the script and its processes were stopped.`,
      };
    }
    if (reason?.kind === 'cancelled') {
      return {
        status: 'cancelled',
        exitCode: result.code,
        errorKind: 'cancelled',
        errorMessage: 'Cancelled; the script and its processes were stopped.',
      };
    }
    if (result.code === null) {
      return {
        status: 'error',
        errorKind: 'connection_lost',
        errorMessage: `The connection to ${plan.server.name} was lost while the script ran${result.signal ? ` (signal ${result.signal})` : ''}.`,
      };
    }
    if (result.code === 0) return { status: 'succeeded', exitCode: 0 };
    return {
      status: 'failed',
      exitCode: result.code,
      errorKind: 'script_failed',
      errorMessage: `The script exited with code ${result.code}.`,
    };
  }

  private buildSetup(plan: ExecutionPlan, interpreter: { command: string; file: string }): string {
    let setup = '';
    setup += `CRONIUM_INTERPRETER=${shellQuote(interpreter.command)}\nCRONIUM_SCRIPT=${interpreter.file}\nCRONIUM_KILL_GRACE=${this.killGraceSec}\n`;
    setup += heredocFile(`"$W/${interpreter.file}"`, plan.job.script);
    for (const { key, value } of plan.env) setup += exportLine(key, value);
    setup += exportLine('CRONIUM_EXECUTION_ID', plan.executionId);
    setup += exportLine('CRONIUM_JOB_ID', plan.job.id);
    setup += exportLine('CRONIUM_EVENT_ID', plan.job.id);
    setup += 'export CRONIUM_WORK_DIR="$W"\n';
    if (plan.job.language === 'python') setup += 'export PYTHONUNBUFFERED=1\n';
    return setup;
  }

  private writeLog(chunks: Parameters<HistoryRepo['appendLogs']>[0]): void {
    this.options.history.appendLogs(chunks);
    for (const chunk of chunks) this.options.hub.emit({ type: 'log', chunk });
  }

  private patch(id: string, patch: ExecutionPatch): void {
    this.options.history.updateExecution(id, patch);
    this.options.hub.emit({ type: 'execution', execution: this.options.history.getExecution(id)! });
  }

  private finish(id: string, log: LogSink, patch: ExecutionPatch): void {
    log.close();
    this.patch(id, { ...patch, endedAt: Date.now() });
  }
}
