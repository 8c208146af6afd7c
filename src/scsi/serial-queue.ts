// Runs tasks one at a time, in order. COMPARE AND WRITE uses it so that two of them (VMware's
// ATS locking) never interleave between their compare and their write.
export type Task = (release: () => void) => void;

export class SerialQueue {
  private readonly waiting: Task[] = [];
  private busy = false;

  run(task: Task): void {
    this.waiting.push(task);
    if (!this.busy) this.next();
  }

  private next(): void {
    const task = this.waiting.shift();
    if (task === undefined) {
      this.busy = false;
      return;
    }
    this.busy = true;
    let released = false;
    task(() => {
      if (released) return;
      released = true;
      this.next();
    });
  }
}
