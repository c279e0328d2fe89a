import { describe, expect, it } from 'vitest';
import { newUploadRow, percent, progressed } from './documents';
import { titleFromFilename, withQuery } from './pdfUpload';

describe('uploads', () => {
  it('builds the query without empty values', () => {
    expect(withQuery('/api/x', { title: 'Tờ trình', visibility: 'members', agenda_item_id: null, note: '' })).toBe(
      '/api/x?title=T%E1%BB%9D+tr%C3%ACnh&visibility=members',
    );
    expect(withQuery('/api/x', {})).toBe('/api/x');
  });
  it('titles a file by its name', () => {
    expect(titleFromFilename('Bao_cao_tham_tra.PDF')).toBe('Bao cao tham tra');
    expect(titleFromFilename('.pdf')).toBe('.pdf');
  });
  it('goes from sending to checking at the last byte', () => {
    const row = newUploadRow({ name: 'a.pdf', size: 200 });
    expect(progressed(row, 100)).toMatchObject({ state: 'uploading', loaded: 100 });
    expect(percent(progressed(row, 100))).toBe(50);
    expect(progressed(row, 200).state).toBe('checking');
    expect(percent({ loaded: 0, size: 0 })).toBe(100);
  });
});
