import { describe, expect, it } from 'vitest';
import { currentPage, layoutPages, mountedPages, pageAt, scrollTopFor } from './layout';

const A4: [number, number] = [595, 842];

describe('layout', () => {
  const layout = layoutPages([A4, [842, 595], A4], 5, 595, 10);

  it('stacks pages at one width, the last size standing in for missing ones', () => {
    expect(layout.heights).toEqual([842, 420, 842, 842, 842]);
    expect(layout.tops).toEqual([10, 862, 1292, 2144, 2996]);
    expect(layout.total).toBe(2996 + 842 + 10);
  });

  it('finds the page under a position, gaps belonging to the page above', () => {
    expect(pageAt(layout, 0)).toBe(0);
    expect(pageAt(layout, 861)).toBe(0);
    expect(pageAt(layout, 862)).toBe(1);
    expect(pageAt(layout, 1e9)).toBe(4);
  });

  it('mounts the pages in view and one on each side, never past the ends', () => {
    expect(mountedPages(layout, 0, 800)).toEqual({ first: 0, last: 1 });
    expect(mountedPages(layout, 1300, 800)).toEqual({ first: 1, last: 3 });
    expect(mountedPages(layout, 3000, 800)).toEqual({ first: 3, last: 4 });
    expect(mountedPages(layout, 1300, 800, 0)).toEqual({ first: 2, last: 2 });
  });

  it('mounts a bounded number of pages for any position in a long document', () => {
    const long = layoutPages([A4], 500, 700, 12);
    for (let y = 0; y < long.total; y += 997) {
      const { first, last } = mountedPages(long, y, 800);
      expect(last - first + 1).toBeLessThanOrEqual(4);
    }
  });

  it('says which page the reader is on and where a page starts', () => {
    expect(currentPage(layout, 862 - 100, 600)).toBe(1);
    expect(scrollTopFor(layout, 2, 10)).toBe(1282);
    expect(scrollTopFor(layout, 99, 10)).toBe(2986);
    expect(scrollTopFor(layoutPages([], 0, 500, 10), 3, 10)).toBe(0);
  });
});
