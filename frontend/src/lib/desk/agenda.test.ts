import { describe, expect, it } from 'vitest';
import {
  applyMove,
  flatten,
  indent,
  isNoop,
  moveDown,
  moveUp,
  outdent,
  project,
  renumber,
  slotOf,
  type AgendaRow,
} from './agenda';

function row(id: number, parent_id: number | null, position: number): AgendaRow {
  return { id, parent_id, position, number: '', title: `T${id}`, description: '', presenter: '', duration_minutes: null, status: 'pending' };
}

// 1 (id 1) ─ 1.1 (id 2) ─ 1.1.1 (id 3)
//          └ 1.2 (id 4)
// 2 (id 5)
// 3 (id 6)
const tree = renumber([row(1, null, 0), row(2, 1, 0), row(3, 2, 0), row(4, 1, 1), row(5, null, 1), row(6, null, 2)]);
const numbers = (rows: AgendaRow[]) => Object.fromEntries(renumber(rows).map((r) => [r.id, r.number]));

describe('agenda tree', () => {
  it('numbers in reading order', () => {
    expect(flatten(tree).map((f) => [f.row.number, f.depth])).toEqual([
      ['1', 0], ['1.1', 1], ['1.1.1', 2], ['1.2', 1], ['2', 0], ['3', 0],
    ]);
  });

  it('moves up and down among siblings only', () => {
    expect(moveUp(tree, 1)).toBeNull();
    expect(moveUp(tree, 6)).toEqual({ parent_id: null, position: 1 });
    expect(moveDown(tree, 6)).toBeNull();
    expect(moveDown(tree, 2)).toEqual({ parent_id: 1, position: 1 });
    expect(numbers(applyMove(tree, 6, moveUp(tree, 6)!))).toMatchObject({ 6: '2', 5: '3' });
  });

  it('indents under the item above within three levels, outdents after the parent', () => {
    expect(indent(tree, 5)).toEqual({ parent_id: 1, position: 2 });
    expect(indent(tree, 1)).toBeNull(); // first: nothing above
    expect(indent(tree, 4)).toEqual({ parent_id: 2, position: 1 }); // becomes 1.1.2
    const deep = applyMove(tree, 6, { parent_id: 4, position: 0 }); // 3 -> 1.2.1
    expect(numbers(deep)[6]).toBe('1.2.1');
    expect(indent(deep, 4)).toBeNull(); // 1.2 with 1.2.1 under 1.1 would need a fourth level
    expect(outdent(tree, 3)).toEqual({ parent_id: 1, position: 1 });
    expect(outdent(tree, 1)).toBeNull();
    expect(numbers(applyMove(tree, 3, outdent(tree, 3)!))).toMatchObject({ 2: '1.1', 3: '1.2', 4: '1.3' });
  });

  it('projects a drag onto a parent and a position', () => {
    expect(slotOf(tree, 6)).toBe(5);
    expect(project(tree, 6, 1, 1).move).toEqual({ parent_id: 1, position: 0 });
    expect(project(tree, 6, 1, 0).move).toEqual({ parent_id: 1, position: 0 }); // the next item is 1.1: not shallower
    expect(project(tree, 6, 3, 2).move).toEqual({ parent_id: 2, position: 1 });
    expect(project(tree, 6, 3, 9).depth).toBe(2);
    // item 1 carries two levels: it can only stay at the top
    expect(project(tree, 1, 2, 1)).toMatchObject({ move: { parent_id: null, position: 2 }, depth: 0 });
    // 1.1 carries one level: at most depth 1
    expect(project(tree, 2, 2, 2)).toMatchObject({ move: { parent_id: 1, position: 1 }, depth: 1 });
    // dropped just above a third-level item, a two-level item does not fit
    const deep = applyMove(tree, 6, { parent_id: 4, position: 0 });
    expect(project(deep, 4, 2, 1).move).toBeNull();
    expect(isNoop(tree, 6, { parent_id: null, position: 2 })).toBe(true);
    expect(isNoop(tree, 6, { parent_id: 1, position: 2 })).toBe(false);
  });
});
