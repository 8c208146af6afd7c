// For the tests of the page-cache write path (page-cache-writes.test.ts, file-device.test.ts): a
// guard that allows as told and records the durations it is given.
import { PageCacheWriteGuard } from './page-cache-writes.ts';

export class RecordingGuard extends PageCacheWriteGuard {
  readonly durations: number[] = [];
  constructor(private readonly allow: boolean) {
    super();
  }
  override allows(): boolean {
    return this.allow;
  }
  override took(ms: number): void {
    this.durations.push(ms);
  }
}
