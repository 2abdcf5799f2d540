import type { Socket } from 'node:net';
import type { OutputBudget, Slab } from './output-budget.js';

/**
 * Bytes for one local connection: copied into slabs from the shared budget, gathered for the rest
 * of the current turn of the event loop and written as one socket write (the agent's messages
 * bring at most 1 KiB each). Slabs go back to the budget when the socket has taken their bytes,
 * so the budget counts exactly what waits for this reader.
 */
export class LocalOutput {
  private current: Slab | undefined;
  /** Slabs with writes in flight that are no longer `current`. */
  private readonly retiring = new Set<Slab>();
  private flushQueued = false;
  private closed = false;
  private endRequested = false;

  constructor(
    private readonly socket: Socket,
    private readonly budget: OutputBudget,
  ) {
    socket.once('close', () => this.releaseAll());
  }

  write(data: Buffer): void {
    if (this.closed || this.endRequested) return;
    for (let offset = 0; offset < data.length; ) {
      let slab = this.current;
      if (!slab || slab.filled === slab.buffer.length) {
        this.flush();
        if (slab) this.retire(slab);
        slab = this.current = this.budget.take();
      }
      const copied = data.copy(slab.buffer, slab.filled, offset);
      slab.filled += copied;
      offset += copied;
    }
    this.queueFlush();
  }

  /** Ends the socket after everything written so far. */
  end(): void {
    if (this.closed || this.endRequested) return;
    this.endRequested = true;
    this.flush();
    this.socket.end();
  }

  /** Everything handed over and the OS has it (or the socket is gone). */
  get isFlushed(): boolean {
    return this.closed || (this.pendingBytes === 0 && this.socket.writableLength === 0);
  }

  flush(): void {
    const slab = this.current;
    if (!slab || this.closed || slab.filled === slab.flushed) return;
    const data = slab.buffer.subarray(slab.flushed, slab.filled);
    slab.flushed = slab.filled;
    slab.writesInFlight++;
    this.socket.write(data, () => {
      if (this.closed) return; // released by releaseAll
      slab.writesInFlight--;
      if (slab.writesInFlight > 0) return;
      if (slab !== this.current) {
        this.retiring.delete(slab);
        this.budget.release(slab);
      } else if (slab.flushed === slab.filled) {
        // All written: an idle connection holds no slab, so idle ones cannot use up the budget.
        this.current = undefined;
        this.budget.release(slab);
      }
    });
  }

  private get pendingBytes(): number {
    return this.current ? this.current.filled - this.current.flushed : 0;
  }

  private retire(slab: Slab): void {
    if (slab.writesInFlight === 0) this.budget.release(slab);
    else this.retiring.add(slab);
    if (this.current === slab) this.current = undefined;
  }

  private queueFlush(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    queueMicrotask(() => {
      this.flushQueued = false;
      this.flush();
    });
  }

  /** The socket is gone: every slab it held goes back, written or not. */
  private releaseAll(): void {
    if (this.closed) return;
    this.closed = true;
    for (const slab of this.retiring) this.budget.release(slab);
    this.retiring.clear();
    if (this.current) this.budget.release(this.current);
    this.current = undefined;
  }
}
