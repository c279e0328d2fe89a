/**
 * The annotation layer's state for one document version, as Svelte state over the plain
 * `AnnotationStore` (docs/WEBAPP.md, "Annotating"). The components read it and call its
 * methods; they never touch the socket.
 *
 *   const ann = createAnnotations({ userId, documentId, versionId });
 *   ann.items, ann.tool, ann.color, ann.conflicts, ann.orphans …
 *   ann.destroy();   // in the component's cleanup
 */
import { api } from '$lib/api';
import { acquireConnection, releaseConnection, type Connection } from '$lib/realtime/connection';
import type { Word } from '$lib/ink/selection';
import { AnnotationStore, type AnnotationTransport, type Conflict, type Notice } from './store';
import type { ChangeSender, PendingStore } from './pending';
import type { Annotation, AnnotationDraft } from './types';

export type Tool = 'read' | 'pen' | 'highlight' | 'underline' | 'strike' | 'note' | 'freetext' | 'eraser';

export const COLOURS = ['#ffd400', '#d00000', '#0b57d0', '#0d8a3a', '#14181f'] as const;

/** Where a note or free text is being written: a new one at `at` on `page`, or an existing one. */
export interface Editing {
  kind: 'note' | 'freetext';
  page: number;
  draft: AnnotationDraft;
}

export interface AnnotationsOptions {
  userId: number;
  documentId: number;
  versionId: number;
  pending?: PendingStore;
  /** the app-wide sender of pending changes (src/lib/offline/drain.ts) */
  sender?: ChangeSender;
  connection?: Connection;
}

function transportOf(conn: Connection): AnnotationTransport {
  return {
    get online() {
      return conn.online;
    },
    call: (name, payload) => conn.call(name, payload),
    on: ((kind: 'connect' | 'user_event' | 'event', listener: (v: any) => void) =>
      conn.on(kind, listener)) as AnnotationTransport['on'],
  };
}

export class Annotations {
  items = $state.raw<Annotation[]>([]);
  conflicts = $state.raw<Conflict[]>([]);
  orphans = $state.raw<Annotation[]>([]);
  canUndo = $state.raw(false);
  canRedo = $state.raw(false);
  tool = $state<Tool>('read');
  color = $state<string>(COLOURS[0]);
  penOnly = $state(false);
  panelOpen = $state(false);
  editing = $state.raw<Editing | null>(null);
  /** the last thing to tell the user (announced by the toolbar) */
  notice = $state.raw<Notice | null>(null);

  readonly store: AnnotationStore;
  readonly userId: number;
  readonly versionId: number;
  private readonly conn: Connection;
  private readonly shared: boolean;
  private readonly words = new Map<number, Promise<Word[]>>();
  private readonly off: (() => void)[] = [];

  constructor(opts: AnnotationsOptions) {
    this.shared = !opts.connection;
    this.conn = opts.connection ?? acquireConnection();
    this.userId = opts.userId;
    this.versionId = opts.versionId;
    this.documentId = opts.documentId;
    this.store = new AnnotationStore({
      userId: opts.userId,
      documentId: opts.documentId,
      versionId: opts.versionId,
      transport: transportOf(this.conn),
      pending: opts.pending,
      sender: opts.sender,
      api: {
        list: (id) => api.get(`/api/document-versions/${id}/annotations`),
        orphaned: (id) => api.get(`/api/annotations/orphaned?document_id=${id}`),
      },
    });
    this.off.push(
      this.store.subscribe(() => this.mirror()),
      this.store.onNotice((n) => (this.notice = n)),
    );
    void this.store.start().catch(() => {});
  }

  readonly documentId: number;

  /** This version's annotations of one page (0-based, as stored). */
  onPage(page: number): Annotation[] {
    return this.items.filter((a) => a.page === page);
  }

  mine(a: Annotation): boolean {
    return a.user_id === this.userId;
  }

  /** The words of a page (0-based), fetched once. */
  pageWords(page: number, version: number): Promise<Word[]> {
    let found = this.words.get(page);
    if (!found) {
      found = api
        .get<{ words: Word[] }>(
          `/api/documents/${this.documentId}/pages/${page}/words?version=${version}`,
        )
        .then((b) => b.words);
      found.catch(() => this.words.delete(page));
      this.words.set(page, found);
    }
    return found;
  }

  save(draft: AnnotationDraft): Promise<void> {
    return this.store.save(draft);
  }

  remove(id: string): Promise<void> {
    return this.store.remove(id);
  }

  undo(): Promise<void> {
    return this.store.undo();
  }

  redo(): Promise<void> {
    return this.store.redo();
  }

  resolve(id: string, choice: 'mine' | 'theirs'): Promise<void> {
    return this.store.resolve(id, choice);
  }

  destroy(): void {
    for (const off of this.off.splice(0)) off();
    this.store.stop();
    if (this.shared) releaseConnection(this.conn);
  }

  private mirror(): void {
    this.items = this.store.list();
    this.conflicts = [...this.store.conflicts.values()];
    this.orphans = this.store.orphans;
    this.canUndo = this.store.history.canUndo;
    this.canRedo = this.store.history.canRedo;
  }
}

export function createAnnotations(opts: AnnotationsOptions): Annotations {
  return new Annotations(opts);
}
