/**
 * What the eraser touches: an annotation under a point, in page points.
 */
import { quadRect, type Point, type Quad, type Rect } from './coords';

export interface Shape {
  kind: string;
  quads?: Quad[] | null;
  strokes?: [number, number, number][][] | null;
  rect?: Rect | null;
}

function segmentDistance([px, py]: Point, ax: number, ay: number, bx: number, by: number): number {
  const dx = bx - ax;
  const dy = by - ay;
  const len2 = dx * dx + dy * dy;
  const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / len2));
  return Math.hypot(px - (ax + t * dx), py - (ay + t * dy));
}

function inRect([x, y]: Point, [x0, y0, x1, y1]: Rect, slack: number): boolean {
  return x >= x0 - slack && x <= x1 + slack && y >= y0 - slack && y <= y1 + slack;
}

/** Whether `at` touches the shape, within `slack` points. */
export function hits(shape: Shape, at: Point, slack = 4): boolean {
  if (shape.kind === 'ink') {
    return (shape.strokes ?? []).some((stroke) =>
      stroke.some((p, i) => {
        const q = stroke[i + 1] ?? p;
        return segmentDistance(at, p[0], p[1], q[0], q[1]) <= slack;
      }),
    );
  }
  if (shape.quads && shape.quads.length > 0) {
    return shape.quads.some((q) => inRect(at, quadRect(q), slack));
  }
  return shape.rect ? inRect(at, shape.rect, slack) : false;
}

export type InkStroke = [number, number, number][];

/** The distance from `p` to the eraser's path (a polyline, or one point). */
function pathDistance(p: Point, path: readonly Point[]): number {
  if (path.length === 1) return Math.hypot(p[0] - path[0]![0], p[1] - path[0]![1]);
  let best = Infinity;
  for (let i = 0; i + 1 < path.length; i++) {
    const [a, b] = [path[i]!, path[i + 1]!];
    best = Math.min(best, segmentDistance(p, a[0], a[1], b[0], b[1]));
  }
  return best;
}

/**
 * Pen strokes with the part under the eraser's path rubbed out (docs/WEBAPP.md, "Annotating"):
 * every point within `radius` points of the path goes, and a stroke cut in the middle becomes
 * two strokes of the same annotation (an ink annotation holds several strokes), so the change
 * is one `annotation.upsert` of that annotation, undone as one. Pieces of a single point are
 * dropped. Returns null when the path touches no point (nothing to change), `[]` when nothing
 * is left (the annotation is deleted instead).
 */
export function eraseStrokes(strokes: readonly InkStroke[], path: readonly Point[], radius: number): InkStroke[] | null {
  if (path.length === 0) return null;
  let touched = false;
  const out: InkStroke[] = [];
  for (const stroke of strokes) {
    let piece: InkStroke = [];
    for (const point of stroke) {
      if (pathDistance([point[0], point[1]], path) <= radius) {
        touched = true;
        if (piece.length > 1) out.push(piece);
        piece = [];
      } else {
        piece.push(point);
      }
    }
    if (piece.length > 1) out.push(piece);
    else if (piece.length === 1 && stroke.length === 1) out.push(piece); // a dot left alone
  }
  return touched ? out : null;
}
