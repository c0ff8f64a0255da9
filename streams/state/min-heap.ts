/** A binary min-heap on a numeric priority; entries are never updated in place (callers skip stale ones). */
export class MinHeap<T> {
  private readonly keys: number[] = [];
  private readonly items: T[] = [];

  get size(): number {
    return this.keys.length;
  }

  push(key: number, item: T): void {
    const keys = this.keys;
    const items = this.items;
    let i = keys.length;
    keys.push(key);
    items.push(item);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (keys[p]! <= key) break;
      keys[i] = keys[p]!;
      items[i] = items[p]!;
      i = p;
    }
    keys[i] = key;
    items[i] = item;
  }

  peekKey(): number | undefined {
    return this.keys[0];
  }

  pop(): T | undefined {
    const keys = this.keys;
    const items = this.items;
    const n = keys.length;
    if (n === 0) return undefined;
    const top = items[0];
    const lastKey = keys.pop()!;
    const lastItem = items.pop()!;
    if (n > 1) {
      let i = 0;
      const m = n - 1;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= m) break;
        const r = l + 1;
        const c = r < m && keys[r]! < keys[l]! ? r : l;
        if (keys[c]! >= lastKey) break;
        keys[i] = keys[c]!;
        items[i] = items[c]!;
        i = c;
      }
      keys[i] = lastKey;
      items[i] = lastItem;
    }
    return top;
  }
}
