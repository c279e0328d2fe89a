import { describe, expect, it } from 'vitest';
import { fold, matches, segments, tokens } from './fold';

describe('fold', () => {
  it('folds as the server does', () => {
    expect(fold('ĐẠI BIỂU  Hội đồng')).toBe('dai bieu hoi dong');
    expect(fold('Nghị\u00adquyết')).toBe('nghiquyet');
    expect(tokens('Nghị quyết số 12/NQ-HĐND')).toEqual(['nghi', 'quyet', 'so', '12', 'nq', 'hdnd']);
  });

  it('matches every word without diacritics', () => {
    expect(matches('Báo cáo ngân sách tỉnh', 'ngan sach')).toBe(true);
    expect(matches('Báo cáo ngân sách tỉnh', 'ngan quy')).toBe(false);
  });

  it('cuts a snippet at the server match', () => {
    expect(segments('một nghị quyết mới', [4, 14])).toEqual([
      { text: 'một ', mark: false },
      { text: 'nghị quyết', mark: true },
      { text: ' mới', mark: false },
    ]);
    expect(segments('abc', null)).toEqual([{ text: 'abc', mark: false }]);
    expect(segments('abc', [2, 9])).toEqual([{ text: 'abc', mark: false }]);
  });
});
