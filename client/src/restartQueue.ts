// Coalesces restart requests. Pure: no `vscode` import, unit-tested.
// Configuration changes, interpreter changes and the restart command can all fire at once;
// the server must be restarted once at a time, and a burst of requests must end in exactly
// one more restart after the running one (which then sees the newest settings).

export class RestartQueue {
  private running: Promise<void> | undefined;
  private pending = false;
  private waiters: Array<() => void> = [];

  constructor(private readonly task: () => Promise<void>, private readonly onError: (e: unknown) => void = () => {}) {}

  /** Requests a restart; resolves when a restart that began after this call has finished. */
  request(): Promise<void> {
    const done = new Promise<void>((resolve) => this.waiters.push(resolve));
    if (this.running) {
      this.pending = true;
    } else {
      this.running = this.loop();
    }
    return done;
  }

  get busy(): boolean {
    return this.running !== undefined;
  }

  private async loop(): Promise<void> {
    do {
      this.pending = false;
      const waiters = this.waiters;
      this.waiters = [];
      try {
        await this.task();
      } catch (e) {
        this.onError(e);
      }
      for (const w of waiters) w();
    } while (this.pending);
    this.running = undefined;
  }
}
