// Reading progress as the views show it (docs/WEBAPP.md, "Reader"): which document the chair's
// current item brings up, and the delegate's checklist of opened documents. Only whether a
// document was opened is known (never which pages: the server does not record them).
import type { MeetingDocument } from '$lib/realtime/types';

/** The first document of agenda item `itemId` the caller can read, or null. */
export function readableDocument(
  documents: readonly MeetingDocument[],
  itemId: number | null,
): MeetingDocument | null {
  if (itemId === null) return null;
  return documents.find((d) => d.agenda_item_id === itemId && d.current_version) ?? null;
}

export interface Checklist {
  opened: number;
  total: number;
}

/** How many of the documents the caller can read they have opened. */
export function checklist(
  documents: readonly MeetingDocument[],
  opened: ReadonlySet<number>,
): Checklist {
  const readable = documents.filter((d) => d.current_version);
  return { opened: readable.filter((d) => opened.has(d.id)).length, total: readable.length };
}

export interface DocumentTotal {
  document_id: number;
  opened_by: number;
}

/** The chair's row for one document: opened by N of M participants, as a whole percentage. */
export function share(openedBy: number, participants: number): number {
  if (participants <= 0) return 0;
  return Math.round((100 * Math.min(openedBy, participants)) / participants);
}
