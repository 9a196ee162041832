import type { Execution, LogChunk, Run } from './runs.ts';
import type { TunnelState } from './values.ts';

/** Events the core pushes to every subscriber (CLI, windows, browser tabs). */
export type CoreEvent =
  | { type: 'log'; chunk: LogChunk }
  | {
      type: 'execution';
      execution: Execution;
      /**
       * True when this process read the change from the store (it follows another process's run or a
       * worker's): something else wrote it, and counts it (metrics).
       */
      followed?: boolean;
    }
  | { type: 'run'; run: Run }
  | { type: 'tunnel'; serverId: string; state: TunnelState; remotePort: number | null; error: string | null };
