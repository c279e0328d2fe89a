import { describe, expect, it } from 'vitest';
import { apiQuery, emptySearch, pages, searchFrom, searchQuery } from './archive';

describe('the public search in the URL', () => {
  it('reads what is set and defaults the rest', () => {
    const s = searchFrom(new URLSearchParams('q=ngan+sach&council_id=3&page=2'));
    expect(s).toEqual({ ...emptySearch(), q: 'ngan sach', council_id: '3', page: 2 });
  });

  it('ignores a page that is not a positive whole number', () => {
    expect(searchFrom(new URLSearchParams('page=-1')).page).toBe(1);
    expect(searchFrom(new URLSearchParams('page=abc')).page).toBe(1);
    expect(searchFrom(new URLSearchParams('page=1.5')).page).toBe(1);
  });

  it('writes only what is set, and round-trips', () => {
    const s = { ...emptySearch(), q: ' đầu tư ', date_from: '2026-01-01' };
    expect(searchQuery(s)).toBe('q=%C4%91%E1%BA%A7u+t%C6%B0&date_from=2026-01-01');
    expect(searchFrom(new URLSearchParams(searchQuery(s)))).toEqual({ ...s, q: 'đầu tư' });
    expect(searchQuery(emptySearch())).toBe('');
  });

  it('asks the API for the page as limit and offset', () => {
    expect(apiQuery({ ...emptySearch(), number: '12', page: 3 }, 20)).toBe(
      'number=12&limit=20&offset=40',
    );
  });
});

describe('pages', () => {
  it('counts pages and says what is before and after', () => {
    expect(pages(0, 0, 20)).toEqual({ current: 1, count: 1, previous: false, next: false });
    expect(pages(41, 20, 20)).toEqual({ current: 2, count: 3, previous: true, next: true });
    expect(pages(40, 20, 20)).toEqual({ current: 2, count: 2, previous: true, next: false });
  });
});
