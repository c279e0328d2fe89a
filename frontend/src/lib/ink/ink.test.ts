import { describe, expect, it } from 'vitest';
import { toCss, toPdf, rectToCss, type PageBox } from './coords';
import { StrokeCapture, type CapturedStroke, type PointerInput } from './capture';
import { History } from './history';
import { eraseStrokes, hits } from './hit';
import { outlinePath, strokeOptions } from './outline';
import { quadsOf, quoteOf, span, wordAt, type Word } from './selection';

const A4: PageBox = { widthPt: 595.28, heightPt: 841.89, cssWidth: 800, cssHeight: 1131.4 };

describe('coordinates', () => {
  it('maps the top-left of the box to the top of the page, y up', () => {
    expect(toPdf(A4, 0, 0)).toEqual([0, 841.89]);
    expect(toPdf(A4, 800, 1131.4)).toEqual([595.28, 0]);
    const [x, y] = toPdf(A4, 400, 565.7);
    expect(x).toBeCloseTo(297.64, 1);
    expect(y).toBeCloseTo(420.95, 1);
  });

  it('keeps points on the page and goes back to the same pixel', () => {
    expect(toPdf(A4, -20, 2000)).toEqual([0, 0]);
    const [x, y] = toPdf(A4, 123.4, 567.8);
    const [cx, cy] = toCss(A4, x, y);
    expect(Math.abs(cx - 123.4)).toBeLessThan(0.02);
    expect(Math.abs(cy - 567.8)).toBeLessThan(0.02);
  });

  it('turns a rect in points into a CSS box from its top-left', () => {
    const box = rectToCss({ widthPt: 100, heightPt: 200, cssWidth: 200, cssHeight: 400 }, [
      10, 150, 30, 190,
    ]);
    expect(box).toEqual({ left: 20, top: 20, width: 40, height: 80 });
  });
});

function capture(penOnly = false) {
  const strokes: CapturedStroke[] = [];
  const timers: (() => void)[] = [];
  const c = new StrokeCapture({
    penOnly: () => penOnly,
    onStroke: (s) => strokes.push(s),
    setTimer: (fn) => timers.push(fn),
    clearTimer: () => timers.splice(0),
  });
  return { c, strokes, timers };
}

const pen = (x: number, y: number, extra: Partial<PointerInput> = {}): PointerInput => ({
  pointerId: 1,
  pointerType: 'pen',
  x,
  y,
  pressure: 0.7,
  ...extra,
});
const finger = (x: number, y: number, id = 2): PointerInput => ({
  pointerId: id,
  pointerType: 'touch',
  x,
  y,
  pressure: 0,
});

describe('stroke capture', () => {
  it('reads every coalesced sample, with the pen pressure', () => {
    const { c, strokes } = capture();
    expect(c.down(pen(0, 0, { pressure: 0.2 }))).toBe(true);
    c.move(
      pen(3, 3, {
        coalesced: [pen(1, 1, { pressure: 0.4 }), pen(2, 2, { pressure: 0.6 }), pen(3, 3)],
      }),
    );
    c.up(pen(4, 4, { pressure: 0 }));
    expect(strokes).toHaveLength(1);
    expect(strokes[0]!.points).toEqual([
      [0, 0, 0.2],
      [1, 1, 0.4],
      [2, 2, 0.6],
      [3, 3, 0.7],
      [4, 4, 0.5],
    ]);
  });

  it('ignores the palm while the pen is down, and drops a palm stroke when the pen lands', () => {
    const { c, strokes } = capture();
    expect(c.down(finger(50, 50))).toBe(true); // the palm touched first
    c.move(finger(51, 52));
    expect(c.down(pen(0, 0))).toBe(true);
    expect(c.down(finger(60, 60, 3))).toBe(false);
    c.move(finger(61, 61, 3));
    c.move(pen(1, 1));
    c.up(finger(61, 61, 3));
    c.up(pen(2, 2));
    expect(strokes.map((s) => s.pointerType)).toEqual(['pen']);
    expect(strokes[0]!.points.map((p) => p[0])).toEqual([0, 1, 2]);
  });

  it('lets fingers draw with pressure 0.5, unless in pen mode', () => {
    const { c, strokes } = capture();
    c.down(finger(0, 0));
    c.up(finger(5, 5));
    expect(strokes[0]!.points).toEqual([
      [0, 0, 0.5],
      [5, 5, 0.5],
    ]);
    const penMode = capture(true);
    expect(penMode.c.down(finger(0, 0))).toBe(false);
    expect(penMode.c.down(pen(0, 0))).toBe(true);
  });

  it('does not cut a stroke on pointercancel: it goes on, and is kept', () => {
    const { c, strokes, timers } = capture();
    c.down(pen(0, 0));
    c.cancel(pen(0, 0));
    c.move(pen(1, 1));
    expect(strokes).toHaveLength(0);
    c.up(pen(2, 2));
    expect(strokes[0]!.points).toHaveLength(3);
    // cancelled and nothing more: kept after the grace time, not thrown away
    c.down(pen(10, 10));
    c.move(pen(11, 11));
    c.cancel(pen(11, 11));
    expect(strokes).toHaveLength(1);
    timers.at(-1)!();
    expect(strokes).toHaveLength(2);
    expect(strokes[1]!.points).toHaveLength(2);
  });
});

describe('outline', () => {
  it('simulates pressure only for strokes without any', () => {
    expect(strokeOptions([[0, 0, 0.5], [1, 1, 0.5]]).simulatePressure).toBe(true);
    expect(strokeOptions([[0, 0, 0.5], [1, 1, 0.8]]).simulatePressure).toBe(false);
  });

  it('draws a closed path, wider where the pen pressed harder', () => {
    const line = (p: number): [number, number, number][] =>
      Array.from({ length: 20 }, (_, i) => [i * 5, 100, p]);
    const height = (d: string) => {
      const ys = [...d.matchAll(/(-?\d+(?:\.\d+)?) (-?\d+(?:\.\d+)?)/g)].map((m) => Number(m[2]));
      return Math.max(...ys) - Math.min(...ys);
    };
    const light = outlinePath(line(0.1), strokeOptions(line(0.1), 4));
    const hard = outlinePath(line(0.9), strokeOptions(line(0.9), 4));
    expect(light.startsWith('M')).toBe(true);
    expect(hard.endsWith('Z')).toBe(true);
    expect(height(hard)).toBeGreaterThan(height(light));
    expect(outlinePath([], strokeOptions([]))).toBe('');
  });
});

describe('history', () => {
  it('undoes and redoes, and a new change clears what could be redone', () => {
    const h = new History<{ id: string; v: number }>();
    h.record({ before: null, after: { id: 'a', v: 1 } });
    h.record({ before: { id: 'a', v: 1 }, after: { id: 'a', v: 2 } });
    expect(h.undo()).toEqual({ before: { id: 'a', v: 2 }, after: { id: 'a', v: 1 } });
    expect(h.redo()).toEqual({ before: { id: 'a', v: 1 }, after: { id: 'a', v: 2 } });
    h.undo();
    h.record({ before: null, after: { id: 'b', v: 1 } });
    expect(h.canRedo).toBe(false);
  });

  it('follows an annotation made again under a new id', () => {
    const h = new History<{ id: string; v: number }>();
    h.record({ before: null, after: { id: 'a', v: 1 } });
    h.record({ before: { id: 'a', v: 1 }, after: null });
    h.undo();
    h.renamed('a', 'b');
    expect(h.undo()).toEqual({ before: { id: 'b', v: 1 }, after: null });
  });
});

describe('text selection', () => {
  const words: Word[] = [
    ['Tờ', 72, 700, 85, 712],
    ['trình', 88, 700, 115, 712],
    ['ngân', 118, 700, 140, 712],
    ['sách', 72, 684, 95, 696],
    ['năm', 98, 684, 120, 696],
  ];

  it('finds the word under a point, or the nearest within reach', () => {
    expect(wordAt(words, [90, 705])).toBe(1);
    expect(wordAt(words, [96.5, 690])).toBe(3);
    expect(wordAt(words, [400, 400])).toBe(-1);
    expect(span(3, 1)).toEqual([1, 3]);
  });

  it('makes one quad per line, UL UR LL LR, and the quote with its context', () => {
    expect(quadsOf(words, 1, 3)).toEqual([
      [88, 712, 140, 712, 88, 700, 140, 700],
      [72, 696, 95, 696, 72, 684, 95, 684],
    ]);
    expect(quoteOf(words, 1, 3)).toEqual({ exact: 'trình ngân sách', prefix: 'Tờ', suffix: 'năm' });
  });
});

describe('eraser hits', () => {
  it('touches ink near a segment, markup on a quad, notes on their rect', () => {
    const ink = { kind: 'ink', strokes: [[[0, 0, 0.5], [100, 0, 0.5]]] as [number, number, number][][] };
    expect(hits(ink, [50, 3])).toBe(true);
    expect(hits(ink, [50, 10])).toBe(false);
    const hl = { kind: 'highlight', quads: quadsOf([['x', 10, 10, 50, 20]], 0, 0) };
    expect(hits(hl, [30, 15])).toBe(true);
    expect(hits(hl, [80, 15])).toBe(false);
    expect(hits({ kind: 'note', rect: [0, 0, 20, 20] }, [10, 10])).toBe(true);
  });
});

describe('partial eraser', () => {
  const line = (y: number, n = 11): [number, number, number][] =>
    Array.from({ length: n }, (_, i) => [i * 10, y, 0.5] as [number, number, number]);

  it('cuts a stroke in two where the eraser crossed it', () => {
    const out = eraseStrokes([line(0)], [[50, -20], [50, 20]], 6);
    expect(out).toEqual([line(0).slice(0, 5), line(0).slice(6)]);
  });

  it('leaves strokes it did not touch, and says when it touched nothing', () => {
    expect(eraseStrokes([line(0)], [[50, 40], [60, 40]], 6)).toBeNull();
    const out = eraseStrokes([line(0), line(100)], [[0, 100], [100, 100]], 6);
    expect(out).toEqual([line(0)]);
  });

  it('rubs out an end, drops single points, and leaves nothing when all is covered', () => {
    expect(eraseStrokes([line(0)], [[100, 0]], 15)).toEqual([line(0).slice(0, 9)]);
    expect(eraseStrokes([line(0, 3)], [[10, 0]], 6)).toEqual([]); // two single points left: dropped
    expect(eraseStrokes([line(0)], [[-10, 0], [110, 0]], 6)).toEqual([]);
  });
});
