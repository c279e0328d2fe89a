/**
 * The agenda editor's tree logic (docs/WEBAPP.md, "The secretariat's meeting pages"), plain
 * TypeScript: the numbered preview, and where a drag, a key or a button would put an item.
 *
 * The server keeps `parent_id` and `position` (0.. among siblings) and computes the numbers
 * (docs/API.md, "Resources"). A move is `{parent_id, position}`, position counted among the
 * new siblings without the moving item, as `POST …/agenda/{id}/move` takes it. Items nest at
 * most three levels (`1`, `1.1`, `1.1.1`): depth 0, 1 or 2 here.
 */

export interface AgendaRow {
  id: number;
  parent_id: number | null;
  position: number;
  number: string;
  title: string;
  description: string;
  presenter: string;
  duration_minutes: number | null;
  status: string;
}

export interface Move {
  parent_id: number | null;
  position: number;
}

export interface FlatRow {
  row: AgendaRow;
  depth: number;
}

export const MAX_DEPTH = 3;

function childrenOf(rows: readonly AgendaRow[], parent: number | null): AgendaRow[] {
  return rows
    .filter((r) => r.parent_id === parent)
    .sort((a, b) => a.position - b.position || a.id - b.id);
}

/** The agenda in reading order (1, 1.1, 1.1.1, 1.2, 2 …) with each item's depth. */
export function flatten(rows: readonly AgendaRow[]): FlatRow[] {
  const out: FlatRow[] = [];
  const walk = (parent: number | null, depth: number) => {
    for (const row of childrenOf(rows, parent)) {
      out.push({ row, depth });
      walk(row.id, depth + 1);
    }
  };
  walk(null, 0);
  return out;
}

/** Rows with positions made contiguous and numbers computed, in reading order. */
export function renumber(rows: readonly AgendaRow[]): AgendaRow[] {
  const out: AgendaRow[] = [];
  const walk = (parent: number | null, prefix: string) => {
    childrenOf(rows, parent).forEach((row, i) => {
      const number = prefix ? `${prefix}.${i + 1}` : String(i + 1);
      out.push({ ...row, position: i, number });
      walk(row.id, number);
    });
  };
  walk(null, '');
  return out;
}

export function depthOf(rows: readonly AgendaRow[], id: number): number {
  const byId = new Map(rows.map((r) => [r.id, r]));
  let depth = 0;
  let at = byId.get(id)?.parent_id ?? null;
  while (at !== null && depth < 100) {
    depth += 1;
    at = byId.get(at)?.parent_id ?? null;
  }
  return depth;
}

/** How many levels hang below an item (0 for a leaf). */
export function heightOf(rows: readonly AgendaRow[], id: number): number {
  const kids = rows.filter((r) => r.parent_id === id);
  return kids.length ? 1 + Math.max(...kids.map((k) => heightOf(rows, k.id))) : 0;
}

/** The ids of an item's sub-items, at every level. */
export function descendants(rows: readonly AgendaRow[], id: number): Set<number> {
  const out = new Set<number>();
  let frontier = [id];
  while (frontier.length) {
    const next = rows.filter((r) => r.parent_id !== null && frontier.includes(r.parent_id)).map((r) => r.id);
    next.forEach((n) => out.add(n));
    frontier = next;
  }
  return out;
}

/** The agenda as it would be after `move` (what the server will answer), renumbered. */
export function applyMove(rows: readonly AgendaRow[], id: number, move: Move): AgendaRow[] {
  const moving = rows.find((r) => r.id === id);
  if (!moving) return renumber(rows);
  const siblings = childrenOf(rows, move.parent_id).filter((r) => r.id !== id);
  const index = Math.min(Math.max(0, move.position), siblings.length);
  siblings.splice(index, 0, moving);
  const place = new Map(siblings.map((r, i) => [r.id, i]));
  const oldSiblings = childrenOf(rows, moving.parent_id).filter((r) => r.id !== id);
  const oldPlace = new Map(oldSiblings.map((r, i) => [r.id, i]));
  return renumber(
    rows.map((r) => {
      if (r.id === id) return { ...r, parent_id: move.parent_id, position: index };
      if (place.has(r.id)) return { ...r, position: place.get(r.id)! };
      if (oldPlace.has(r.id)) return { ...r, position: oldPlace.get(r.id)! };
      return r;
    }),
  );
}

function current(rows: readonly AgendaRow[], id: number): AgendaRow | undefined {
  return rows.find((r) => r.id === id);
}

/** One place up among its siblings, or null at the top. */
export function moveUp(rows: readonly AgendaRow[], id: number): Move | null {
  const row = current(rows, id);
  if (!row) return null;
  const at = childrenOf(rows, row.parent_id).findIndex((r) => r.id === id);
  return at > 0 ? { parent_id: row.parent_id, position: at - 1 } : null;
}

/** One place down among its siblings, or null at the bottom. */
export function moveDown(rows: readonly AgendaRow[], id: number): Move | null {
  const row = current(rows, id);
  if (!row) return null;
  const kids = childrenOf(rows, row.parent_id);
  const at = kids.findIndex((r) => r.id === id);
  return at >= 0 && at < kids.length - 1 ? { parent_id: row.parent_id, position: at + 1 } : null;
}

/** Under the item just above it (its last sub-item), when that stays within three levels. */
export function indent(rows: readonly AgendaRow[], id: number): Move | null {
  const row = current(rows, id);
  if (!row) return null;
  const kids = childrenOf(rows, row.parent_id);
  const at = kids.findIndex((r) => r.id === id);
  if (at <= 0) return null;
  const parent = kids[at - 1]!;
  const depth = depthOf(rows, parent.id) + 1;
  if (depth + heightOf(rows, id) >= MAX_DEPTH) return null;
  return { parent_id: parent.id, position: childrenOf(rows, parent.id).length };
}

/** Out of its parent, just after it. */
export function outdent(rows: readonly AgendaRow[], id: number): Move | null {
  const row = current(rows, id);
  if (!row || row.parent_id === null) return null;
  const parent = current(rows, row.parent_id);
  if (!parent) return null;
  const at = childrenOf(rows, parent.parent_id).findIndex((r) => r.id === parent.id);
  return { parent_id: parent.parent_id, position: at + 1 };
}

/**
 * Where a dragged item lands: `slot` is its index in the reading order without its own
 * sub-items (0 = first), `depth` the level asked for (from the pointer's sideways offset or the
 * arrow keys). The depth is kept between what the neighbours allow: not deeper than one below
 * the item above, not shallower than the item below, and the moving item's own sub-items must
 * still fit within three levels. Returns the move and the depth actually used; `move` is null
 * when nothing fits (a two-level item dropped under a second-level one).
 */
export function project(
  rows: readonly AgendaRow[],
  id: number,
  slot: number,
  depth: number,
): { move: Move | null; depth: number; slot: number } {
  const hidden = descendants(rows, id);
  const flat = flatten(rows).filter((f) => !hidden.has(f.row.id));
  const from = flat.findIndex((f) => f.row.id === id);
  if (from < 0) return { move: null, depth: 0, slot: 0 };
  const to = Math.min(Math.max(0, slot), flat.length - 1);
  const order = flat.slice();
  const [active] = order.splice(from, 1);
  order.splice(to, 0, active!);
  const prev = to > 0 ? order[to - 1] : undefined;
  const next = order[to + 1];
  const height = heightOf(rows, id);
  const maxDepth = Math.min(prev ? prev.depth + 1 : 0, MAX_DEPTH - 1 - height);
  const minDepth = next ? next.depth : 0;
  if (maxDepth < minDepth) return { move: null, depth: minDepth, slot: to };
  const d = Math.min(Math.max(depth, minDepth), maxDepth);
  let parent: number | null = null;
  if (d > 0) {
    // the nearest item above at depth d-1 is the parent
    for (let i = to - 1; i >= 0; i--) {
      if (order[i]!.depth === d - 1) {
        parent = order[i]!.row.id;
        break;
      }
    }
  }
  let position = 0;
  for (let i = 0; i < to; i++) {
    const f = order[i]!;
    if (f.row.parent_id === parent && f.row.id !== id) {
      // a sibling only if it sits at the same level as the projected place
      position += f.depth === d ? 1 : 0;
    }
  }
  return { move: { parent_id: parent, position }, depth: d, slot: to };
}

/** The slot an item sits in now (its index in the reading order without its sub-items). */
export function slotOf(rows: readonly AgendaRow[], id: number): number {
  const hidden = descendants(rows, id);
  return flatten(rows)
    .filter((f) => !hidden.has(f.row.id))
    .findIndex((f) => f.row.id === id);
}

/** How many slots there are for `id` (the reading order without its sub-items). */
export function slotCount(rows: readonly AgendaRow[], id: number): number {
  const hidden = descendants(rows, id);
  return flatten(rows).filter((f) => !hidden.has(f.row.id)).length;
}

/** True when `move` changes nothing. */
export function isNoop(rows: readonly AgendaRow[], id: number, move: Move): boolean {
  const row = current(rows, id);
  if (!row || row.parent_id !== move.parent_id) return false;
  const at = childrenOf(rows, row.parent_id).findIndex((r) => r.id === id);
  return at === move.position;
}
