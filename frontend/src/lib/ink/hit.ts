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
