/**
 * The one memory budget for data on its way to local sockets, shared by every forwarded
 * connection. smux v1 has no per-stream window (docs/protocol.md §16.4): the agent sends each
 * stream's bytes as fast as the destination produces them, whatever our local reader does. So
 * bytes are copied into fixed-size slabs taken from here; when the slabs in use reach the budget,
 * `onOverBudget` asks the session to stop reading the websocket, and `onUnderBudget` lets it read
 * again once half of them are back. Memory stays bounded however many connections are open and
 * however slow their readers are; the price is that one stalled reader holds up the others once
 * the budget is full, as in xtaci/smux's own 4 MiB receive buffer.
 */
export interface Slab {
  readonly buffer: Buffer;
  /** Bytes copied in so far. */
  filled: number;
  /** Bytes handed to the socket so far. */
  flushed: number;
  /** Socket writes of this slab's bytes not completed yet. */
  writesInFlight: number;
}

export interface OutputBudgetOptions {
  slabBytes?: number;
  /** Slabs in use at which incoming data is paused. */
  budgetSlabs?: number;
  /** Spare slabs kept for reuse; the rest are left to the garbage collector. */
  spareSlabs?: number;
  onOverBudget(): void;
  onUnderBudget(): void;
}

export class OutputBudget {
  readonly slabBytes: number;
  private readonly budgetSlabs: number;
  private readonly spareLimit: number;
  private readonly spare: Slab[] = [];
  private inUse = 0;
  private over = false;

  constructor(private readonly options: OutputBudgetOptions) {
    this.slabBytes = options.slabBytes ?? 16 * 1024;
    this.budgetSlabs = options.budgetSlabs ?? 256;
    this.spareLimit = options.spareSlabs ?? 32;
  }

  /** Slabs handed out and not yet released. */
  get slabsInUse(): number {
    return this.inUse;
  }

  get isOverBudget(): boolean {
    return this.over;
  }

  /** Always gives a slab (data already received must be kept); reports when over budget. */
  take(): Slab {
    const slab = this.spare.pop() ?? { buffer: Buffer.allocUnsafe(this.slabBytes), filled: 0, flushed: 0, writesInFlight: 0 };
    this.inUse++;
    if (!this.over && this.inUse >= this.budgetSlabs) {
      this.over = true;
      this.options.onOverBudget();
    }
    return slab;
  }

  release(slab: Slab): void {
    slab.filled = 0;
    slab.flushed = 0;
    slab.writesInFlight = 0;
    this.inUse--;
    if (this.spare.length < this.spareLimit) this.spare.push(slab);
    if (this.over && this.inUse <= this.budgetSlabs >> 1) {
      this.over = false;
      this.options.onUnderBudget();
    }
  }
}
