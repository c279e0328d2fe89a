/**
 * Text selection over a page image with the server's page words (docs/WEBAPP.md,
 * "Annotating"): the words a drag covers, their quads (one per line) and their quote.
 */
import { quadRect, round2, type Point, type Quad } from './coords';

/** [text, left, bottom, right, top] in displayed-page points, reading order. */
export type Word = [string, number, number, number, number];

export interface TextQuote {
  exact: string;
  prefix: string;
  suffix: string;
}

const CONTEXT = 32;

function distance(w: Word, [x, y]: Point): number {
  const dx = x < w[1] ? w[1] - x : x > w[3] ? x - w[3] : 0;
  const dy = y < w[2] ? w[2] - y : y > w[4] ? y - w[4] : 0;
  return Math.hypot(dx, dy);
}

/** The index of the word at (or nearest to) a point, or -1 when none is within `reach` pt. */
export function wordAt(words: readonly Word[], at: Point, reach = 12): number {
  let best = -1;
  let bestDistance = reach;
  words.forEach((w, i) => {
    const d = distance(w, at);
    if (d < bestDistance || (d === 0 && bestDistance === 0)) {
      best = i;
      bestDistance = d;
    }
  });
  return best;
}

/** Words [start..end] in reading order, whichever way the drag went. */
export function span(a: number, b: number): [number, number] {
  return a <= b ? [a, b] : [b, a];
}

function sameLine(box: number[], w: Word): boolean {
  const mid = (w[2] + w[4]) / 2;
  return box[1]! <= mid && mid <= box[3]! && w[1] >= box[0]! - 1;
}

/** One quad per line over words [start..end], in QuadPoints order (UL, UR, LL, LR). */
export function quadsOf(words: readonly Word[], start: number, end: number): Quad[] {
  const lines: number[][] = [];
  for (const w of words.slice(start, end + 1)) {
    const line = lines[lines.length - 1];
    if (line && sameLine(line, w)) {
      line[0] = Math.min(line[0]!, w[1]);
      line[1] = Math.min(line[1]!, w[2]);
      line[2] = Math.max(line[2]!, w[3]);
      line[3] = Math.max(line[3]!, w[4]);
    } else {
      lines.push([w[1], w[2], w[3], w[4]]);
    }
  }
  return lines.map(([x0, y0, x1, y1]) => {
    const [a, b, c, d] = [x0!, y0!, x1!, y1!].map(round2) as [number, number, number, number];
    return [a, d, c, d, a, b, c, b];
  });
}

/** The quote of words [start..end] with some text on either side: the anchor that lets the
 *  server find the passage again in a new version. */
export function quoteOf(words: readonly Word[], start: number, end: number): TextQuote {
  const join = (ws: readonly Word[]) => ws.map((w) => w[0]).join(' ');
  const before = join(words.slice(Math.max(0, start - 8), start));
  const after = join(words.slice(end + 1, end + 9));
  return {
    exact: join(words.slice(start, end + 1)),
    prefix: before.slice(-CONTEXT),
    suffix: after.slice(0, CONTEXT),
  };
}

/** Whether a point lies on any of the quads (the eraser over a highlight). */
export function onQuads(quads: readonly Quad[], [x, y]: Point, slack = 2): boolean {
  return quads.some((q) => {
    const [x0, y0, x1, y1] = quadRect(q);
    return x >= x0 - slack && x <= x1 + slack && y >= y0 - slack && y <= y1 + slack;
  });
}
