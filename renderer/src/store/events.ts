import { client } from '../api/client.ts';
import { notifyRun } from '../lib/notify.ts';
import type { CoreEvent } from '../api/types.ts';
import { useHistory } from './history.ts';
import { useLive } from './live.ts';
import { useSchedules } from './schedules.ts';
import { useServers } from './servers.ts';
import { useUi } from './ui.ts';

/** The one subscription to the core's events, fanned out to the stores. */
export function routeEvent(event: CoreEvent): void {
  switch (event.type) {
    case 'log':
      useLive.getState().appendLog(event.chunk);
      break;
    case 'execution':
      useLive.getState().upsertExecution(event.execution);
      useHistory.getState().upsert(event.execution);
      break;
    case 'run': {
      const known = event.run.id in useLive.getState().runs;
      useLive.getState().upsertRun(event.run);
      // A run started elsewhere (the CLI, another window) comes to the live view when it shows nothing
      // going: the one being watched is never taken away.
      if (!known && event.run.status === 'running') {
        const ui = useUi.getState();
        const shown = ui.liveRunId ? useLive.getState().runs[ui.liveRunId] : undefined;
        if (!shown || shown.status !== 'running') useUi.setState({ liveRunId: event.run.id });
      }
      // A finished run may have changed servers' last checks and shared variables.
      if (event.run.status !== 'running') {
        void useServers.getState().load();
        void notifyRun(event.run);
      }
      // A schedule's last result is its last run's status.
      if (event.run.scheduleId && useSchedules.getState().loaded) void useSchedules.getState().load();
      break;
    }
    case 'tunnel':
      useLive.getState().setTunnel(event.serverId, {
        state: event.state,
        remotePort: event.remotePort,
        error: event.error,
      });
      break;
  }
}

export function subscribeToCore(): () => void {
  return client().transport.subscribe(routeEvent);
}
