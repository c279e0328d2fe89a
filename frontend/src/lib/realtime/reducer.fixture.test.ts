/**
 * The TypeScript reducer against a sitting recorded from the real server
 * (fixtures/sitting.json, written by `uv run python -m tests.support.reducer_fixture`; a Python
 * test fails when it is stale). For each viewer (the chair: staff, with the roster; a delegate:
 * `me` only): the join snapshot, then every step that viewer's client saw, must give the fresh
 * snapshot taken at the end; and its annotation store, from the sync before and the user events
 * its device got, must equal a fresh sync.
 *
 * Compared: every field of `SittingState` but `serverTime`. Normalised on purpose:
 * - `serverTime`: the fresh snapshot's is the time of that join; the replayed state's is the time
 *   of the last event (a snapshot says "current at the server's time of the join").
 * - `participants` sorted by user id: the server sorts names with SQL's collation, the reducer
 *   with JavaScript's code-unit order (the same as Python's); ties and accents may differ.
 */
import { describe, expect, it } from 'vitest';
import fixture from './fixtures/sitting.json';
import {
  applyBallotAck,
  applyDocuments,
  applyEvent,
  applyPoll,
  applyUserEvent,
  fromSnapshot,
  fromSync,
} from './reducer';
import type {
  Annotation,
  MeetingDocument,
  MeetingEvent,
  Poll,
  SittingState,
  UserEvent,
  WireSnapshot,
} from './types';

type Step =
  | { event: MeetingEvent }
  | { ack: { command: string; ack: Record<string, unknown> } }
  | { documents: MeetingDocument[] }
  | { poll: Poll };

interface Synced {
  annotations: Annotation[];
  cursor: number;
}

interface Viewer {
  before: WireSnapshot;
  steps: Step[];
  after: WireSnapshot;
  /** the viewer's own annotations: a sync before, the user events its device got, a sync after */
  annotations: { before: Synced; user_events: UserEvent[]; after: Synced };
}

const viewers = (fixture as unknown as { viewers: Record<string, Viewer> }).viewers;

/** One recorded step as the web app applies it (MeetingSync does the same). */
export function applyStep(state: SittingState, step: Step): SittingState {
  if ('event' in step) return applyEvent(state, step.event);
  if ('documents' in step) return applyDocuments(state, step.documents);
  if ('poll' in step) return applyPoll(state, step.poll);
  const { command, ack } = step.ack;
  if (command === 'ballot.cast') return applyBallotAck(state, ack);
  return ack.poll ? applyPoll(state, ack.poll as Poll) : state;
}

function comparable(state: SittingState): Omit<SittingState, 'serverTime'> {
  const { serverTime: _volatile, ...rest } = state;
  if (rest.participants) {
    rest.participants = [...rest.participants].sort((a, b) => a.user_id - b.user_id);
  }
  return rest;
}

describe('reducer over the recorded sitting', () => {
  for (const [name, viewer] of Object.entries(viewers)) {
    it(`${name}: snapshot + steps = fresh snapshot`, () => {
      let state = fromSnapshot(viewer.before);
      for (const step of viewer.steps) state = applyStep(state, step);
      expect(comparable(state)).toEqual(comparable(fromSnapshot(viewer.after)));
    });

    it(`${name}: annotation sync + user events = fresh sync`, () => {
      const { before, user_events: events, after } = viewer.annotations;
      let store = fromSync(before.annotations, before.cursor);
      for (const event of events) store = applyUserEvent(store, event);
      expect(store).toEqual(fromSync(after.annotations, after.cursor));
    });

    it(`${name}: every event keeps the parts it does not touch`, () => {
      let state = fromSnapshot(viewer.before);
      for (const step of viewer.steps) {
        const next = applyStep(state, step);
        if ('event' in step) {
          const type = step.event.type;
          if (!type.startsWith('agenda') && type !== 'current_item_changed') {
            expect(next.agenda, type).toBe(state.agenda);
          }
          if (type !== 'speakers_changed') expect(next.speakers, type).toBe(state.speakers);
          if (!type.startsWith('document_')) expect(next.documents, type).toBe(state.documents);
          if (!type.startsWith('poll_')) expect(next.polls, type).toBe(state.polls);
          if (type === 'speakers_changed') {
            const item = step.event.data.item_id as number;
            for (const [id, list] of Object.entries(state.speakers)) {
              if (Number(id) !== item) expect(next.speakers[Number(id)]).toBe(list);
            }
          }
          if (type.startsWith('poll_')) {
            const id = (step.event.data.poll as Poll).id;
            for (const [pid, poll] of Object.entries(state.polls)) {
              if (Number(pid) !== id) expect(next.polls[Number(pid)]).toBe(poll);
            }
          }
        }
        state = next;
      }
    });
  }

  it('covers the events the web app relies on', () => {
    const types = new Set(
      Object.values(viewers).flatMap((v) =>
        v.steps.flatMap((s) => ('event' in s ? [s.event.type] : [])),
      ),
    );
    for (const type of [
      'attendance_changed', 'participant_removed', 'participant_added', 'meeting_updated',
      'agenda_changed', 'meeting_status_changed', 'current_item_changed', 'speakers_changed',
      'document_added', 'document_version_added', 'document_updated', 'document_removed',
      'poll_created', 'poll_opened', 'poll_closed', 'poll_published', 'poll_cancelled',
      'annotation_shared', 'annotation_unshared',
    ]) {
      expect(types, type).toContain(type);
    }
  });
});
