import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { acquireConnection, Connection, releaseConnection } from './connection';
import { MeetingSync } from './meeting';
import { FakeNetwork, FakeServer, FakeVisibility, HOLD, wireSnapshot } from './testing/fakeSocket';

const MEETING = 7;

function setup(options: { seq?: number; visibility?: FakeVisibility } = {}) {
  const server = new FakeServer(wireSnapshot(options.seq ?? 5));
  const connection = new Connection({
    socketFactory: server.factory,
    visibility: options.visibility ?? null,
    random: () => 0.5,
  });
  connection.start();
  const sync = new MeetingSync(connection, MEETING);
  return { server, connection, sync };
}

const flush = () => vi.advanceTimersByTimeAsync(0);

function current(server: FakeServer, itemId: number, deliver = true) {
  return server.commit('current_item_changed', { item_id: itemId, previous_item_id: null }, deliver);
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('MeetingSync: joining and following', () => {
  it('joins with a snapshot and is synced only once it is applied', async () => {
    const { server, sync } = setup();
    server.commands.set('meeting.join', (p) => (server.joins.push(p), HOLD));
    await flush();
    expect(sync.synced).toBe(false);
    expect(sync.connectionState).toBe('connecting');
    expect(server.sent('meeting.join')).toEqual([{ meeting_id: MEETING }]);
    server.commands.set('meeting.join', (p) => server.join(p));
    server.release('meeting.join');
    await flush();
    expect(sync.synced).toBe(true);
    expect(sync.connectionState).toBe('online');
    expect(sync.state?.seq).toBe(5);
    expect(sync.dataAt).toBeInstanceOf(Date);
  });

  it('applies events in seq order, buffering one that comes early', async () => {
    const { server, sync } = setup();
    await flush();
    const e6 = current(server, 1, false);
    current(server, 2); // seq 7 arrives first
    await flush();
    expect(sync.state?.seq).toBe(5);
    expect(sync.pending.has(7)).toBe(true);
    server.deliver(e6);
    await flush();
    expect(sync.state?.seq).toBe(7);
    expect(sync.applied).toEqual([6, 7]);
    expect(sync.state?.meeting.current_item_id).toBe(2);
    expect(sync.pending.size).toBe(0);
    expect(server.joins).toHaveLength(1); // the gap closed in time: no resync
  });

  it('drops events at or below the applied seq (duplicates, and those already in the snapshot)', async () => {
    const { server, sync } = setup();
    await flush();
    const e6 = current(server, 1);
    await flush();
    const before = sync.state;
    server.deliver(e6);
    server.deliver({ ...e6, seq: 3 });
    await flush();
    expect(sync.applied).toEqual([6]);
    expect(sync.state).toBe(before); // not even a new object
    expect(sync.pending.size).toBe(0);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(server.joins).toHaveLength(1); // nothing is missing: no resync
  });

  it('resyncs with since_seq when a gap is not filled within a second', async () => {
    const { server, sync } = setup();
    await flush();
    current(server, 1, false); // seq 6 is lost on the way
    current(server, 2); // seq 7
    await flush();
    await vi.advanceTimersByTimeAsync(900);
    expect(server.joins).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(200);
    expect(server.joins[1]).toEqual({ meeting_id: MEETING, since_seq: 5 });
    await flush();
    expect(sync.applied).toEqual([6, 7]);
    expect(sync.state?.meeting.current_item_id).toBe(2);
    expect(sync.synced).toBe(true); // a gap resync does not disable the controls
  });

  it('falls back to the snapshot when the server sends one (too far behind)', async () => {
    const { server, sync } = setup();
    await flush();
    server.resyncLimit = 1;
    current(server, 1, false);
    current(server, 2, false);
    current(server, 3); // 8 arrives, 6 and 7 never do
    await vi.advanceTimersByTimeAsync(1_100);
    expect(server.joins[1]).toEqual({ meeting_id: MEETING, since_seq: 5 });
    await flush();
    expect(sync.state?.seq).toBe(8);
    expect(sync.state?.meeting.current_item_id).toBe(3);
    expect(sync.applied).toEqual([]); // nothing replayed: the snapshot replaced the state
    expect(sync.pending.size).toBe(0);
  });

  it('after a reconnect: not synced until the resync is applied; events meanwhile wait their turn', async () => {
    const { server, sync, connection } = setup();
    await flush();
    server.drop();
    expect(sync.synced).toBe(false);
    expect(connection.state).toBe('offline');
    expect(sync.dataAt).toBeInstanceOf(Date);
    current(server, 1, false); // missed while down
    server.commands.set('meeting.join', (p) => (server.joins.push(p), HOLD));
    await vi.advanceTimersByTimeAsync(1_000); // the backoff (random 0.5 of 500 ms)
    expect(connection.state).toBe('online');
    expect(sync.connectionState).toBe('resyncing');
    expect(sync.synced).toBe(false);
    current(server, 2); // live, ahead of the resync
    await flush();
    expect(sync.state?.seq).toBe(5);
    expect(sync.synced).toBe(false);
    server.commands.set('meeting.join', (p) => server.join(p));
    server.release('meeting.join');
    await flush();
    expect(server.joins.at(-1)).toEqual({ meeting_id: MEETING, since_seq: 5 });
    expect(sync.applied).toEqual([6, 7]);
    expect(sync.synced).toBe(true);
    expect(sync.connectionState).toBe('online');
  });

  it('a second view of the same meeting keeps the rooms when the first goes away', async () => {
    const { server, sync, connection } = setup();
    await flush();
    const chairView = new MeetingSync(connection, MEETING);
    await flush();
    sync.destroy(); // the delegate view closes after the chair view opened
    await flush();
    expect(server.sent('meeting.leave')).toEqual([]);
    chairView.destroy();
    await flush();
    expect(server.sent('meeting.leave')).toEqual([{ meeting_id: MEETING }]);
  });

  it('the shared connection outlives its last user briefly (moving between views)', async () => {
    const server = new FakeServer(wireSnapshot());
    const options = { socketFactory: server.factory, visibility: null, network: null };
    const first = acquireConnection(options);
    await flush();
    releaseConnection(first);
    await vi.advanceTimersByTimeAsync(1_000);
    const second = acquireConnection(options);
    expect(second).toBe(first);
    expect(second.online).toBe(true);
    expect(server.sockets).toHaveLength(1);
    releaseConnection(second);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(second.online).toBe(false);
    const third = acquireConnection(options);
    expect(third).not.toBe(first);
    releaseConnection(third);
    await vi.advanceTimersByTimeAsync(2_000);
  });

  it('keeps updates apart from the stored state', async () => {
    const { server, sync } = setup();
    await flush();
    const state = sync.state;
    server.update('poll_progress', { poll_id: 3, voted: 4, present: 10, members: 12 });
    server.update('poll_voters', { poll_id: 3, user_ids: [1, 2] });
    server.update('presence', { version: 2, users: { '11': 1 }, online: 1, devices: 1 });
    server.update('presence', { version: 1, users: {}, online: 0, devices: 0 }); // older: ignored
    server.update('reading_opened', { document_id: 8, opened_by: 5 });
    expect(sync.state).toBe(state);
    expect(sync.reading).toEqual({ 8: 5 });
    expect(sync.progress).toEqual({ 3: { voted: 4, present: 10, members: 12 } });
    expect(sync.voters).toEqual({ 3: [1, 2] });
    expect(sync.presence?.version).toBe(2);
  });

  it('takes the open polls’ progress and voters from the join (staff, displays)', async () => {
    const { server, sync } = setup();
    const poll = {
      id: 3, meeting_id: MEETING, agenda_item_id: null, title: 'P', description: '', kind: 'motion',
      secret: false, spec: {}, show_running: false, duration_s: null, status: 'open',
      opened_at: null, closes_at: null, closed_at: null, published_at: null, cancelled_at: null,
      cancel_reason: null, voted: 2,
    };
    server.snapshot = { ...server.snapshot, polls: [poll] };
    server.commands.set('meeting.join', (p) => ({
      ...(server.join(p) as object),
      progress: [{ poll_id: 3, voted: 2, present: 3, members: 3 }],
      voters: { '3': [11, 12] },
    }));
    await flush();
    expect(sync.progress).toEqual({ 3: { voted: 2, present: 3, members: 3 } });
    expect(sync.voters).toEqual({ 3: [11, 12] });
  });
});

describe('MeetingSync: commands', () => {
  it('adds an idempotency key to commands that take one, and none to the others', async () => {
    const { server, sync } = setup();
    await flush();
    server.commands.set('agenda.set_current', () => ({ ok: true }));
    await sync.command('agenda.set_current', { meeting_id: MEETING, item_id: 1 });
    await sync.command('time.sync');
    const [set] = server.sent('agenda.set_current');
    expect(typeof set?.idempotency_key).toBe('string');
    expect(set?.idempotency_key.length).toBeGreaterThanOrEqual(16);
    expect(server.sent('time.sync').at(-1)).toEqual({});
    expect(server.sent('meeting.join')[0]).not.toHaveProperty('idempotency_key');
  });

  it('retries after a reconnect with the same idempotency key', async () => {
    const { server, sync } = setup();
    await flush();
    server.commands.set('speakers.start', () => HOLD);
    const result = sync.command('speakers.start', { speaker_id: 4 }, { retry: true });
    await flush();
    const [first] = server.sent('speakers.start');
    server.drop(); // the answer is lost with the connection
    server.commands.set('speakers.start', () => ({ ok: true, speaker: { id: 4 } }));
    await vi.advanceTimersByTimeAsync(1_000);
    const ack = await result;
    expect(ack).toEqual({ ok: true, speaker: { id: 4 } });
    const sent = server.sent('speakers.start');
    expect(sent).toHaveLength(2);
    expect(sent[1]?.idempotency_key).toBe(first?.idempotency_key);
  });

  it('without retry, a lost answer is reported as disconnected (not resent)', async () => {
    const { server, sync } = setup();
    await flush();
    server.commands.set('speakers.stop', () => HOLD);
    const result = sync.command('speakers.stop', { speaker_id: 4 });
    await flush();
    server.drop();
    expect(await result).toMatchObject({ ok: false, error: { code: 'disconnected' } });
    await vi.advanceTimersByTimeAsync(2_000);
    expect(server.sent('speakers.stop')).toHaveLength(1);
  });

  it('refuses ballots and requests to speak at once while offline, even with retry', async () => {
    const { server, sync, connection } = setup();
    await flush();
    server.mode = 'refuse';
    server.drop();
    expect(connection.online).toBe(false);
    for (const name of ['ballot.cast', 'speakers.request']) {
      const ack = await sync.command(name, { poll_id: 1, choice: 'yes' }, { retry: true });
      expect(ack).toMatchObject({ ok: false, error: { code: 'offline' } });
    }
    expect(server.sent('ballot.cast')).toEqual([]);
    expect(server.sent('speakers.request')).toEqual([]);
  });

  it('queues a retry command while offline and sends it once connected', async () => {
    const { server, sync } = setup();
    await flush();
    server.drop();
    server.commands.set('agenda.set_current', () => ({ ok: true }));
    const result = sync.command('agenda.set_current', { meeting_id: MEETING, item_id: 2 }, { retry: true });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await result).toEqual({ ok: true });
    expect(server.sent('agenda.set_current')).toHaveLength(1);
  });

  it('a ballot ack marks my ballot as the snapshot would', async () => {
    const { server, sync } = setup();
    await flush();
    server.commands.set('ballot.cast', (p) => ({ ok: true, poll_id: p.poll_id, secret: false, choice: p.choice, changed: false }));
    await sync.command('ballot.cast', { poll_id: 9, choice: 'yes' });
    expect(sync.state?.myBallots[9]).toEqual({ voted: true, choice: 'yes' });
    server.commands.set('ballot.cast', (p) => ({ ok: true, poll_id: p.poll_id, secret: true, receipt: 'ABCD', changed: false }));
    await sync.command('ballot.cast', { poll_id: 10, choice: 'no' });
    expect(sync.state?.myBallots[10]).toEqual({ voted: true });
  });
});

describe('Connection: reconnects and visibility', () => {
  it('stops on an unauthenticated refusal and never retries', async () => {
    const server = new FakeServer(wireSnapshot());
    server.mode = 'unauthenticated';
    const connection = new Connection({ socketFactory: server.factory, visibility: null });
    connection.start();
    await flush();
    expect(connection.state).toBe('unauthenticated');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(server.connectAttempts).toHaveLength(1);
  });

  it('backs off with jitter, forever, below the ceiling', () => {
    const delays = (r: number) => {
      const c = new Connection({ socketFactory: new FakeServer(wireSnapshot()).factory, visibility: null, random: () => r });
      return Array.from({ length: 8 }, () => c.backoff());
    };
    expect(delays(1)).toEqual([500, 1000, 2000, 4000, 8000, 15000, 15000, 15000]);
    expect(delays(0.1)).toEqual([50, 100, 200, 400, 800, 1500, 1500, 1500]);
  });

  it('a hall of tablets spreads its reconnects over the backoff window', async () => {
    const server = new FakeServer(wireSnapshot());
    const tablets = Array.from({ length: 100 }, (_, i) => {
      const c = new Connection({ socketFactory: server.factory, visibility: null, random: () => ((i * 37) % 100) / 100 });
      c.start();
      return c;
    });
    await flush();
    server.connectAttempts.length = 0;
    server.drop();
    const start = Date.now();
    await vi.advanceTimersByTimeAsync(500);
    const offsets = server.connectAttempts.map((t) => t - start);
    expect(offsets).toHaveLength(100);
    // no more than 5 of 100 in any 25 ms slice
    const slices = new Map<number, number>();
    for (const o of offsets) slices.set(Math.floor(o / 25), (slices.get(Math.floor(o / 25)) ?? 0) + 1);
    expect(Math.max(...slices.values())).toBeLessThanOrEqual(5);
    for (const t of tablets) t.stop();
  });

  it('on becoming visible with the socket down: reconnects at once and resyncs before synced', async () => {
    const visibility = new FakeVisibility();
    const { server, sync, connection } = setup({ visibility });
    await flush();
    visibility.set('hidden');
    server.mode = 'refuse';
    server.drop(); // the OS suspended the socket
    await vi.advanceTimersByTimeAsync(31_000); // backing off: the next try is at 37.75 s
    current(server, 1, false);
    server.mode = 'accept';
    const attempts = server.connectAttempts.length;
    server.commands.set('meeting.join', (p) => (server.joins.push(p), HOLD));
    visibility.set('visible');
    await vi.advanceTimersByTimeAsync(250); // at most the wake jitter
    expect(server.connectAttempts.length).toBe(attempts + 1);
    expect(connection.state).toBe('online');
    expect(sync.synced).toBe(false);
    server.commands.set('meeting.join', (p) => server.join(p));
    server.release('meeting.join');
    await flush();
    expect(sync.synced).toBe(true);
    expect(sync.state?.meeting.current_item_id).toBe(1);
  });

  it('on becoming visible after a long sleep with a socket that looks up: resyncs, and reconnects if it is dead', async () => {
    const visibility = new FakeVisibility();
    const { server, sync, connection } = setup({ visibility });
    await flush();
    visibility.set('hidden');
    await vi.advanceTimersByTimeAsync(60_000);
    server.freeze(); // dead, but the client was asleep and noticed nothing
    current(server, 2, false);
    visibility.set('visible');
    expect(sync.synced).toBe(false);
    expect(sync.connectionState).toBe('resyncing');
    await vi.advanceTimersByTimeAsync(10_000); // the join's ack never comes
    await vi.advanceTimersByTimeAsync(1_000);
    expect(connection.state).toBe('online');
    await flush();
    expect(sync.synced).toBe(true);
    expect(sync.state?.meeting.current_item_id).toBe(2);
    expect(server.sockets.length).toBe(2);
  });

  it('when the network comes back (`online`), cuts the backoff short', async () => {
    const server = new FakeServer(wireSnapshot());
    const network = new FakeNetwork();
    const connection = new Connection({
      socketFactory: server.factory, visibility: null, network, random: () => 0.5,
    });
    connection.start();
    await flush();
    server.mode = 'refuse';
    server.drop();
    await vi.advanceTimersByTimeAsync(40_000); // backing off: the next try is at 45.25 s
    const attempts = server.connectAttempts.length;
    server.mode = 'accept';
    network.back();
    await vi.advanceTimersByTimeAsync(500); // half the online jitter (random 0.5 of 1 s)
    expect(server.connectAttempts.length).toBe(attempts + 1);
    expect(connection.state).toBe('online');
    connection.stop();
  });

  it('measures the server clock offset with time.sync', async () => {
    const server = new FakeServer(wireSnapshot());
    server.now = () => Date.now() + 90_000;
    const connection = new Connection({ socketFactory: server.factory, visibility: null });
    connection.start();
    await flush();
    await flush();
    expect(Math.abs(connection.serverOffsetMs - 90_000)).toBeLessThan(50);
    const sync = new MeetingSync(connection, MEETING);
    let seen = 0;
    sync.subscribe((s) => (seen = s.snapshot().serverOffsetMs));
    await connection.syncTime();
    expect(Math.abs(seen - 90_000)).toBeLessThan(50); // views hear of a new offset
  });
});

describe('Revocation (docs/PROTOCOL.md, "Revocation")', () => {
  it('session_ended goes back to the login and never reconnects with the dead token', async () => {
    const { server, connection } = setup();
    await flush();
    expect(connection.state).toBe('online');
    const attempts = server.connectAttempts.length;
    server.current.fire('session_ended', { code: 'unauthenticated', message: 'logged out' });
    server.drop();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(connection.state).toBe('unauthenticated');
    expect(server.connectAttempts).toHaveLength(attempts);
  });

  it('access_changed joins again, so the state is what the caller may see now', async () => {
    const { server, sync } = setup();
    await flush();
    expect(sync.synced).toBe(true);
    const joins = server.joins.length;
    server.current.fire('access_changed', { user: { roles: [] }, left_meetings: [MEETING] });
    await flush();
    expect(server.joins.length).toBe(joins + 1);
    expect(sync.synced).toBe(true);
  });
});
