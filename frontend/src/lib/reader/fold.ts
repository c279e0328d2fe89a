// Search folding as the server does it (meetings/domain/text.py `fold`): lower case, no
// diacritics, "đ" → "d", so "nghi quyet" finds "Nghị quyết". The reader uses it to decide what
// to send, to filter the sitting's documents by title, and to mark the match in a snippet.

const EXTRA: Record<string, string> = { đ: 'd', ð: 'd', ł: 'l', ø: 'o', æ: 'ae', œ: 'oe' };
const DROP = /[\u00ad\u200b\u200c\u200d\u2060\ufeff]/g;
const COMBINING = /\p{M}/gu;

/** The search key of `text`: case-folded, no diacritics, runs of spaces as one, trimmed. */
export function fold(text: string): string {
  return text
    .replace(DROP, '')
    .toLowerCase()
    .normalize('NFD')
    .replace(COMBINING, '')
    .replace(/[đðłøæœ]/g, (c) => EXTRA[c] ?? c)
    .replace(/\s+/g, ' ')
    .trim();
}

/** The folded words of `text` (letters and digits); what the server searches for. */
export function tokens(text: string): string[] {
  return fold(text).match(/[\p{L}\p{N}_]+/gu) ?? [];
}

/** True when every word of `query` occurs in `text`, diacritics and case aside. */
export function matches(text: string, query: string): boolean {
  const hay = fold(text);
  return tokens(query).every((w) => hay.includes(w));
}

export interface Segment {
  text: string;
  mark: boolean;
}

/**
 * `text` cut into plain and marked parts at the server's `match` bounds (`[start, end]` in
 * the snippet), so the match is shown in a `<mark>` without any HTML from the server.
 */
export function segments(text: string, match: readonly [number, number] | null): Segment[] {
  if (!match) return [{ text, mark: false }];
  const [start, end] = match;
  if (!(0 <= start && start < end && end <= text.length)) return [{ text, mark: false }];
  return [
    { text: text.slice(0, start), mark: false },
    { text: text.slice(start, end), mark: true },
    { text: text.slice(end), mark: false },
  ].filter((s) => s.text.length > 0);
}
