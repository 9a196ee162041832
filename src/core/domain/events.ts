import type { Execution, LogChunk, Run } from './runs.ts';
import type { TunnelState } from './values.ts';

/** Events the core pushes to every subscriber (CLI, windows, browser tabs). */
export type CoreEvent =
  | { type: 'log'; chunk: LogChunk }
  | { type: 'execution'; execution: Execution }
  | { type: 'run'; run: Run }
  | { type: 'tunnel'; serverId: string; state: TunnelState; remotePort: number | null; error: string | null };
