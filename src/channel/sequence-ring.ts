/**
 * Values keyed by consecutive sequence numbers, appended in order and removed in any order
 * (selective acknowledgements): the unacknowledged outgoing messages.
 *
 * A Map would do, but a Map that keeps ~1024 live entries while entries come and go reallocates
 * its table every ~1024 insertions, and each new table lives long enough to reach V8's old
 * generation: about a third of what an upload left there for the next full collection. A ring
 * of slots indexed by sequence number allocates only when the window outgrows it.
 */
export class SequenceRing<T> {
  private slots: (T | undefined)[];
  private mask: number;
  /** Lowest sequence number that may still be present. */
  private first = 0;
  /** Sequence number the next `push` must have. */
  private next = 0;
  private count = 0;

  constructor(initialCapacity = 1024) {
    let capacity = 1;
    while (capacity < initialCapacity) capacity *= 2;
    this.slots = new Array<T | undefined>(capacity).fill(undefined);
    this.mask = capacity - 1;
  }

  get size(): number {
    return this.count;
  }

  /** Adds `value` under the next sequence number, which must be `sequence`. */
  push(sequence: number, value: T): void {
    if (sequence !== this.next) throw new RangeError(`expected sequence ${this.next}, got ${sequence}`);
    if (this.next - this.first === this.slots.length) this.grow();
    this.slots[sequence & this.mask] = value;
    this.next++;
    this.count++;
  }

  get(sequence: number): T | undefined {
    if (sequence < this.first || sequence >= this.next) return undefined;
    return this.slots[sequence & this.mask];
  }

  /** Removes and returns the value under `sequence`, if present. */
  delete(sequence: number): T | undefined {
    const value = this.get(sequence);
    if (value === undefined) return undefined;
    this.slots[sequence & this.mask] = undefined;
    this.count--;
    while (this.first < this.next && this.slots[this.first & this.mask] === undefined) this.first++;
    return value;
  }

  /** The value with the lowest sequence number, if any. */
  oldest(): T | undefined {
    return this.count === 0 ? undefined : this.slots[this.first & this.mask];
  }

  /** Sequence number of `oldest()`; the next sequence number when empty. */
  get oldestSequence(): number {
    return this.count === 0 ? this.next : this.first;
  }

  /** Calls `visit` for each value, lowest sequence number first. */
  forEach(visit: (value: T) => void): void {
    for (let sequence = this.first; sequence < this.next; sequence++) {
      const value = this.slots[sequence & this.mask];
      if (value !== undefined) visit(value);
    }
  }

  /** Like `forEach`, but stops at the first value for which `visit` returns false. */
  forEachWhile(visit: (value: T) => boolean): void {
    for (let sequence = this.first; sequence < this.next; sequence++) {
      const value = this.slots[sequence & this.mask];
      if (value !== undefined && !visit(value)) return;
    }
  }

  private grow(): void {
    const larger = new Array<T | undefined>(this.slots.length * 2).fill(undefined);
    const mask = larger.length - 1;
    for (let sequence = this.first; sequence < this.next; sequence++) larger[sequence & mask] = this.slots[sequence & this.mask];
    this.slots = larger;
    this.mask = mask;
  }
}
