/**
 * Undo and redo of annotation changes.
 *
 * An entry is a change as a before/after pair of the annotation's content (`null`: absent).
 * Undoing applies `before`, redoing applies `after`. The server never revives a deleted
 * annotation (a tombstone always wins), so bringing one back — undoing an erase, redoing a
 * creation — makes it under a new id: `renamed(old, new)` then points every entry at the new
 * id, so a later undo finds it.
 */

export interface Change<T extends { id: string }> {
  before: T | null;
  after: T | null;
}

export class History<T extends { id: string }> {
  private done: Change<T>[] = [];
  private undone: Change<T>[] = [];

  constructor(private readonly limit = 100) {}

  get canUndo(): boolean {
    return this.done.length > 0;
  }

  get canRedo(): boolean {
    return this.undone.length > 0;
  }

  /** A change the user made: it can be undone, and what was undone can no longer be redone. */
  record(change: Change<T>): void {
    this.done.push(change);
    if (this.done.length > this.limit) this.done.shift();
    this.undone = [];
  }

  /** The change that undoes the last one (apply it), or null. */
  undo(): Change<T> | null {
    const last = this.done.pop();
    if (!last) return null;
    this.undone.push(last);
    return { before: last.after, after: last.before };
  }

  /** The change that redoes the last undone one (apply it), or null. */
  redo(): Change<T> | null {
    const next = this.undone.pop();
    if (!next) return null;
    this.done.push(next);
    return { before: next.before, after: next.after };
  }

  /** An annotation was made again under a new id: every entry follows it. */
  renamed(oldId: string, newId: string): void {
    const follow = (a: T | null): T | null => (a && a.id === oldId ? { ...a, id: newId } : a);
    for (const list of [this.done, this.undone]) {
      for (const c of list) {
        c.before = follow(c.before);
        c.after = follow(c.after);
      }
    }
  }

  /** Forget an annotation (deleted on another device: undoing around it would revive it). */
  forget(id: string): void {
    const keep = (c: Change<T>) => c.before?.id !== id && c.after?.id !== id;
    this.done = this.done.filter(keep);
    this.undone = this.undone.filter(keep);
  }
}
