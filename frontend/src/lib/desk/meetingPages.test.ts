import { describe, expect, it } from 'vitest';
import { ApiError } from '$lib/api';
import { errorText, uploadErrorText } from './meetingPages';

const refusal = (status: number, code: string, details: unknown = null) => new ApiError(status, code, 'server words', details);

describe('refusals in words', () => {
  it('says every upload refusal without its code', () => {
    const codes = ['too_large', 'unsupported_media', 'not_pdf', 'empty', 'broken_pdf', 'encrypted_pdf', 'too_many_pages', 'pdf_too_complex'];
    const texts = codes.map((code) => uploadErrorText(refusal(422, code)));
    texts.forEach((text, i) => {
      expect(text).not.toContain(codes[i]);
      expect(text).not.toContain('server words');
      expect(text.length).toBeGreaterThan(10);
    });
    expect(new Set(texts.slice(3)).size).toBe(5); // each PDF refusal has its own words
  });
  it('puts the details in', () => {
    expect(uploadErrorText(refusal(422, 'too_many_pages', { pages: 6000, limit: 5000 }))).toMatch(/6000.*5000/);
    expect(uploadErrorText(refusal(422, 'pdf_too_complex', { page: 7 }))).toContain('7');
    expect(errorText(refusal(409, 'item_in_use', { polls: 1, documents: 2, speaker_requests: 0 }))).toMatch(/1.*2/);
  });
  it('names the agenda refusals and never shows a bare code', () => {
    for (const code of ['cycle', 'too_deep', 'has_children', 'current_item', 'meeting_locked']) {
      expect(errorText(refusal(422, code))).not.toContain(code);
    }
    expect(errorText(new ApiError(0, 'network', 'x'))).not.toContain('network');
    expect(errorText(new ApiError(500, 'internal', 'x'))).not.toContain('internal');
  });
});
