import { describe, expect, it } from 'vitest';
import type { MeetingDocument } from '$lib/realtime/types';
import { checklist, readableDocument, share } from './progress';

const version = { id: 1, number: 1, sha256: '', size: 1, page_count: 3, page_sizes: [], filename: 'a.pdf', uploaded_at: null, note: null };
const doc = (id: number, item: number | null, readable = true): MeetingDocument => ({
  id,
  meeting_id: 1,
  agenda_item_id: item,
  title: `D${id}`,
  visibility: 'members',
  created_at: null,
  current_version: readable ? { ...version, id } : null,
  versions: [],
});

describe('reading progress', () => {
  const docs = [doc(1, 10, false), doc(2, 10), doc(3, 11), doc(4, null)];

  it('the chair item brings up its first readable document', () => {
    expect(readableDocument(docs, 10)?.id).toBe(2);
    expect(readableDocument(docs, 12)).toBeNull();
    expect(readableDocument(docs, null)).toBeNull();
  });

  it('counts readable documents opened', () => {
    expect(checklist(docs, new Set([1, 2, 4]))).toEqual({ opened: 2, total: 3 });
    expect(checklist([], new Set())).toEqual({ opened: 0, total: 0 });
  });

  it('shares never pass 100 nor divide by zero', () => {
    expect(share(28, 45)).toBe(62);
    expect(share(3, 0)).toBe(0);
    expect(share(9, 7)).toBe(100);
  });
});
