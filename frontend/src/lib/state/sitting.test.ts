import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Connection } from '$lib/realtime/connection';
import { FakeServer, HOLD, wireSnapshot } from '$lib/realtime/testing/fakeSocket';
import { createSitting } from './sitting.svelte';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

function setup(mode: FakeServer['mode'] = 'accept') {
  const server = new FakeServer(wireSnapshot(5));
  server.mode = mode;
  const connection = new Connection({ socketFactory: server.factory, visibility: null, network: null, random: () => 0.5 });
  connection.start();
  return { server, connection };
}

describe('createSitting', () => {
  it('mirrors the sync into its fields, keeping unchanged parts identical', async () => {
    const { server, connection } = setup();
    const s = createSitting(7, { connection, fetchPoll: null, fetchDocuments: null, onUnauthenticated: null });
    expect(s.connection).toBe('connecting');
    expect(s.synced).toBe(false);
    await vi.advanceTimersByTimeAsync(0);
    expect(s.synced).toBe(true);
    expect(s.connection).toBe('online');
    const agenda = s.state!.agenda;
    server.commit('speakers_changed', { item_id: 1, speakers: [], server_time: '' });
    await vi.advanceTimersByTimeAsync(0);
    expect(s.state!.seq).toBe(6);
    expect(s.state!.agenda).toBe(agenda);
    server.update('poll_progress', { poll_id: 2, voted: 1, present: 2, members: 3 });
    expect(s.progress[2]?.voted).toBe(1);
    server.commands.set('meeting.join', () => HOLD);
    server.drop();
    expect(s.synced).toBe(false);
    expect(s.connection).toBe('offline');
    expect(s.dataAt).toBeInstanceOf(Date);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(s.connection).toBe('resyncing');
    s.destroy();
  });

  it('goes back to the login once when the session is refused', async () => {
    const { connection } = setup('unauthenticated');
    const back = vi.fn();
    const s = createSitting(7, { connection, onUnauthenticated: back });
    await vi.advanceTimersByTimeAsync(0);
    expect(s.connection).toBe('unauthenticated');
    expect(back).toHaveBeenCalledTimes(1);
    s.destroy();
  });
});
