import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Connection } from './connection';
import { MeetingSync } from './meeting';
import { applyBallotAck, applyEvent, applyPoll, fromSnapshot } from './reducer';
import { FakeServer, wireSnapshot } from './testing/fakeSocket';
import type { MeetingEvent, Poll, SittingState } from './types';

function poll(id: number, status: string, extra: Partial<Poll> = {}): Poll {
  return {
    id, meeting_id: 7, agenda_item_id: null, title: `Poll ${id}`, description: '', kind: 'motion',
    secret: false, spec: {}, show_running: false, duration_s: null, status,
    opened_at: null, closes_at: null, closed_at: null, published_at: null, cancelled_at: null,
    cancel_reason: null, ...extra,
  };
}

let seq = 5;
function ev(type: string, data: Record<string, unknown>): MeetingEvent {
  seq += 1;
  return { seq, type, meeting_id: 7, at: `2026-12-06T02:00:${String(seq).padStart(2, '0')}.000Z`, data };
}

function start(): SittingState {
  seq = 5;
  return fromSnapshot(wireSnapshot(5));
}

const RESULT = { outcome: 'adopted', ballots: 2, abstentions: 0, counts: [], rule: {}, rule_text: '',
  base_size: 2, threshold: 2, present: 3, members: 3 };

describe('reducer', () => {
  it('an unknown event only advances seq, keeping every part', () => {
    const s0 = start();
    const s1 = applyEvent(s0, ev('annotation_something', {}));
    expect(s1.seq).toBe(6);
    expect(s1.meeting.seq).toBe(6);
    expect(s1.agenda).toBe(s0.agenda);
    expect(s1.speakers).toBe(s0.speakers);
    expect(s1.polls).toBe(s0.polls);
    expect(s1.quorum).toBe(s0.quorum);
  });

  it('moving to an item keeps the untouched items identical', () => {
    const s0 = start();
    const s1 = applyEvent(s0, ev('current_item_changed', { item_id: 2, previous_item_id: null }));
    expect(s1.agenda[1]?.status).toBe('current');
    expect(s1.agenda[0]).toBe(s0.agenda[0]);
    expect(s1.agenda[2]).toBe(s0.agenda[2]);
    const s2 = applyEvent(s1, ev('current_item_changed', { item_id: 3, previous_item_id: 2 }));
    expect(s2.agenda.map((i) => i.status)).toEqual(['pending', 'done', 'current']);
    expect(s2.meeting.current_item_id).toBe(3);
  });

  it('speakers: one item’s list replaced, sorted by position; an empty list removes it', () => {
    const s0 = start();
    const sp = (id: number, position: number) => ({ id, item_id: 2, user_id: id, name: `S${id}`,
      status: 'waiting', position, requested_at: null, started_at: null, stopped_at: null, time_limit_s: null });
    const s1 = applyEvent(s0, ev('speakers_changed', { item_id: 2, speakers: [sp(9, 1), sp(8, 0)], server_time: '' }));
    expect(s1.speakers[2]?.map((s) => s.id)).toEqual([8, 9]);
    const s2 = applyEvent(s1, ev('speakers_changed', { item_id: 2, speakers: [], server_time: '' }));
    expect(s2.speakers).toEqual({});
  });

  it('poll.close ack before the poll_closed event: the result is kept, voted added', () => {
    let s = start();
    s = applyEvent(s, ev('poll_created', { poll: poll(1, 'draft') }));
    s = applyEvent(s, ev('poll_opened', { poll: poll(1, 'open'), quorum: s.quorum, server_time: '' }));
    expect(s.polls[1]?.voted).toBe(0);
    s = applyPoll(s, { ...poll(1, 'closed'), result: RESULT as never });
    s = applyEvent(s, ev('poll_closed', { poll: poll(1, 'closed'), voted: 2, automatic: false }));
    expect(s.polls[1]?.result?.outcome).toBe('adopted');
    expect(s.polls[1]?.voted).toBe(2);
  });

  it('an older poll object (a late ack) does not undo a newer status', () => {
    let s = start();
    s = applyEvent(s, ev('poll_created', { poll: poll(1, 'draft') }));
    s = applyEvent(s, ev('poll_opened', { poll: poll(1, 'open'), quorum: s.quorum, server_time: '' }));
    s = applyEvent(s, ev('poll_closed', { poll: poll(1, 'closed'), voted: 2, automatic: true }));
    const late = applyPoll(s, poll(1, 'open'));
    expect(late).toBe(s);
  });

  it('a cancelled poll loses its count, result and my ballot (as a fresh snapshot shows it)', () => {
    let s = start();
    s = applyEvent(s, ev('poll_created', { poll: poll(1, 'draft') }));
    s = applyEvent(s, ev('poll_opened', { poll: poll(1, 'open'), quorum: s.quorum, server_time: '' }));
    s = applyBallotAck(s, { poll_id: 1, secret: false, choice: 'no', changed: false });
    expect(s.myBallots[1]).toEqual({ voted: true, choice: 'no' });
    s = applyEvent(s, ev('poll_cancelled', { poll: poll(1, 'cancelled', { cancel_reason: 'x' }) }));
    expect(s.polls[1]).not.toHaveProperty('voted');
    expect(s.myBallots).toEqual({});
  });

  it('a participant row for a member updates `me`; another member’s only the quorum', () => {
    const s0 = start();
    const q = { present: 3, total: 3, needed: 2, met: true };
    const row = { user_id: 12, attendance: 'present', checked_in_at: null, recorded_how: 'self', quorum: q };
    const s1 = applyEvent(s0, ev('attendance_changed', row));
    expect(s1.quorum).toEqual(q);
    expect(s1.me).toBe(s0.me);
    const s2 = applyEvent(s1, ev('attendance_changed', { ...row, user_id: 11, attendance: 'absent' }));
    expect(s2.me?.attendance).toBe('absent');
    const s3 = applyEvent(s2, ev('participant_removed', { user_id: 11, quorum: q }));
    expect(s3.me).toBeNull();
  });
});

describe('MeetingSync follow-ups', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('staff fetch a poll after its close; readers refetch documents after a restricted one', async () => {
    const server = new FakeServer({ ...wireSnapshot(5), participants: [], me: undefined });
    const connection = new Connection({ socketFactory: server.factory, visibility: null });
    connection.start();
    const fetchPoll = vi.fn(async (id: number) => ({ ...poll(id, 'closed'), result: RESULT as never, voted: 2 }));
    const docs = [{ id: 4, meeting_id: 7, agenda_item_id: null, title: 'Mật', visibility: 'restricted',
      created_at: null, current_version: null, versions: [] }];
    const fetchDocuments = vi.fn(async () => docs);
    const sync = new MeetingSync(connection, 7, { fetchPoll, fetchDocuments });
    await vi.advanceTimersByTimeAsync(0);
    server.commit('poll_created', { poll: poll(1, 'draft') });
    server.commit('poll_opened', { poll: poll(1, 'open'), quorum: server.snapshot.quorum, server_time: '' });
    server.update('poll_progress', { poll_id: 1, voted: 1, present: 3, members: 3 });
    server.commit('poll_closed', { poll: poll(1, 'closed'), voted: 2, automatic: false });
    server.commit('document_added', { document_id: 4, restricted: true });
    await vi.advanceTimersByTimeAsync(0);
    expect(fetchPoll).toHaveBeenCalledWith(1);
    expect(sync.state?.polls[1]?.result?.outcome).toBe('adopted');
    expect(sync.progress).toEqual({}); // progress of a closed poll is dropped
    expect(fetchDocuments).toHaveBeenCalledTimes(1);
    expect(sync.state?.documents).toEqual(docs);
  });

  it('a member does not fetch polls (a member sees no result before publication)', async () => {
    const server = new FakeServer(wireSnapshot(5));
    const connection = new Connection({ socketFactory: server.factory, visibility: null });
    connection.start();
    const fetchPoll = vi.fn(async () => null);
    new MeetingSync(connection, 7, { fetchPoll });
    await vi.advanceTimersByTimeAsync(0);
    server.commit('poll_closed', { poll: poll(1, 'closed'), voted: 2, automatic: false });
    await vi.advanceTimersByTimeAsync(0);
    expect(fetchPoll).not.toHaveBeenCalled();
  });

  it('recognises python-socketio’s refusal (the code inside the message) as unauthenticated', async () => {
    const server = new FakeServer(wireSnapshot(5));
    server.mode = 'refuse';
    const connection = new Connection({ socketFactory: server.factory, visibility: null });
    connection.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(connection.state).toBe('offline');
    server.mode = 'hang';
    await vi.advanceTimersByTimeAsync(600); // the next attempt: its handshake is answered so
    expect(server.sockets).toHaveLength(2);
    server.current.fire(
      'connect_error',
      new Error("{'code': 'unauthenticated', 'message': 'log in first: a valid token is required'}"),
    );
    expect(connection.state).toBe('unauthenticated');
  });
});
