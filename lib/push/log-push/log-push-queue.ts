/** A record waiting in the log push queue, with when it was queued (monotonic ms). */
export interface Queued<T> {
  readonly item: T;
  readonly queuedAt: number;
}

/**
 * A first-in, first-out queue with O(1) `push` and `shift` (a growing ring: `shift` only moves an
 * index; the array is compacted once half of it has been shifted out).
 */
export class RecordQueue<T> {
  private items: Queued<T>[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  /** When the oldest waiting record was queued; `undefined` when none waits. */
  get oldestQueuedAt(): number | undefined {
    return this.items[this.head]?.queuedAt;
  }

  push(item: T, queuedAt: number): void {
    this.items.push({ item, queuedAt });
  }

  /** Removes the oldest record; false when none waits. */
  dropOldest(): boolean {
    if (this.length === 0) return false;
    this.head += 1;
    this.compact();
    return true;
  }

  /** Removes and returns the oldest `count` records (fewer when fewer wait). */
  take(count: number): T[] {
    const end = Math.min(this.items.length, this.head + count);
    const taken = this.items.slice(this.head, end).map((queued) => queued.item);
    this.head = end;
    this.compact();
    return taken;
  }

  private compact(): void {
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
