// Group commit for flushes. A flush cycle (sync data, write map, sync map) costs two fdatasyncs;
// when many FUA writes and flushes arrive together, one cycle can serve all that were asked
// for before it started. A request that arrives while a cycle runs waits for the next one:
// the running cycle's snapshot may predate writes that completed just before that request.
import type { Done } from '../block-device.ts';

export class GroupCommit {
  private running = false;
  private queued: Done[] = [];

  constructor(private readonly runCycle: (done: Done) => void) {}

  /** Cycles started so far (tests assert that concurrent flushes share cycles). */
  cycles = 0;

  request(done: Done): void {
    this.queued.push(done);
    if (!this.running) this.start();
  }

  private start(): void {
    const batch = this.queued;
    this.queued = [];
    this.running = true;
    this.cycles++;
    this.runCycle((err) => {
      this.running = false;
      // Start the next cycle before calling back: a callback that flushes again then queues
      // behind it instead of starting a second cycle alongside.
      if (this.queued.length > 0) this.start();
      for (const done of batch) done(err);
    });
  }
}
