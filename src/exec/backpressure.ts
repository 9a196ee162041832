import type { ClientChannel } from 'ssh2';

/**
 * Pauses the script's output streams while a consumer catches up: the log writer, or a live subscriber such
 * as the CLI's stdout (SSH flow control then slows the host). Several consumers may ask at once; the
 * streams resume when every one of them has caught up.
 */
export class Backpressure {
  private channel: ClientChannel | null = null;
  private readonly waits = new Set<Promise<void>>();

  attach(channel: ClientChannel): void {
    this.channel = channel;
    if (this.waits.size > 0) this.setPaused(true);
  }

  pause(until: Promise<void>): void {
    if (!this.channel || this.waits.has(until)) return;
    if (this.waits.size === 0) this.setPaused(true);
    this.waits.add(until);
    const done = () => {
      this.waits.delete(until);
      if (this.waits.size === 0) this.setPaused(false);
    };
    until.then(done, done);
  }

  private setPaused(paused: boolean): void {
    const channel = this.channel;
    if (!channel) return;
    if (paused) {
      channel.pause();
      channel.stderr.pause();
    } else {
      channel.resume();
      channel.stderr.resume();
    }
  }
}
