interface Node<V> {
  readonly key: string;
  value: V;
  older: Node<V> | undefined;
  newer: Node<V> | undefined;
}

/**
 * Values by key in order of last {@link set}, oldest first, with O(1) `get`, `set`,
 * `delete` and `oldest` (a doubly linked list beside a `Map`). A plain `Map` keeps
 * insertion order too, but finding its first live entry after many deletions walks
 * over the deleted ones, which grows with the table.
 */
export class RecencyMap<V> {
  private readonly nodes = new Map<string, Node<V>>();
  private oldestNode: Node<V> | undefined;
  private newestNode: Node<V> | undefined;

  /** Number of keys. */
  get size(): number {
    return this.nodes.size;
  }

  /** The value of `key`, without changing its place. */
  get(key: string): V | undefined {
    return this.nodes.get(key)?.value;
  }

  /** Sets the value of `key` and makes it the most recent. */
  set(key: string, value: V): void {
    this.delete(key);
    const node: Node<V> = { key, value, older: this.newestNode, newer: undefined };
    if (this.newestNode) this.newestNode.newer = node;
    else this.oldestNode = node;
    this.newestNode = node;
    this.nodes.set(key, node);
  }

  /** Removes `key`; true when it was there. */
  delete(key: string): boolean {
    const node = this.nodes.get(key);
    if (!node) return false;
    this.nodes.delete(key);
    if (node.older) node.older.newer = node.newer;
    else this.oldestNode = node.newer;
    if (node.newer) node.newer.older = node.older;
    else this.newestNode = node.older;
    return true;
  }

  /** The least recently set key and its value, undefined when empty. */
  oldest(): readonly [string, V] | undefined {
    return this.oldestNode ? [this.oldestNode.key, this.oldestNode.value] : undefined;
  }

  /** Every key and value, oldest first; deleting the current key while iterating is safe. */
  *entries(): IterableIterator<readonly [string, V]> {
    for (let node = this.oldestNode; node; ) {
      const next = node.newer;
      yield [node.key, node.value];
      node = next;
    }
  }
}
