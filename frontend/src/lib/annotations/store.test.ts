import { describe, expect, it } from 'vitest';
import { AnnotationStore, type Notice } from './store';
import { MemoryPendingStore } from './pending';
import { FakeAnnotationServer, type FakeDevice } from './testing/fakeServer';
import { newId, type Annotation, type AnnotationDraft } from './types';
import type { AnnotationApi } from './store';

const VERSION = 12;

function ink(id = newId(), x = 100): AnnotationDraft {
  return {
    id,
    document_version_id: VERSION,
    kind: 'ink',
    page: 0,
    color: '#d00000',
    opacity: 1,
    quads: [],
    strokes: [[[x, 400, 0.6], [x + 10, 410, 0.7]]],
    rect: null,
    text: '',
    anchor: null,
    shared: false,
  };
}

/** Another member's annotation, shared with the meeting, as the server holds it. */
const theirs = (): Annotation => ({
  ...ink(), user_id: 2, document_id: 7, version: 1, deleted: false, shared: true,
  status: 'anchored', carried_from: null, cursor: 1, created_at: '', updated_at: '',
});

async function device(server: FakeAnnotationServer, userId = 1, api = server.api(userId)) {
  const transport = server.device(userId);
  const pending = new MemoryPendingStore();
  const store = new AnnotationStore({
    userId,
    documentId: 7,
    versionId: VERSION,
    transport,
    api,
    pending,
  });
  const notices: Notice[] = [];
  store.onNotice((n) => notices.push(n));
  await store.start();
  return { store, transport, pending, notices };
}

const settle = async (...stores: AnnotationStore[]) => {
  for (let i = 0; i < 5; i++) {
    await new Promise((r) => setTimeout(r, 0));
    for (const s of stores) await s.flush();
  }
};

/** Device two edits offline on version 1 while device one changes it (by default: makes
 *  version 2); two then sends its edit before it hears of one's (`deaf`). */
async function conflicting(
  change = (store: AnnotationStore, a: AnnotationDraft) => store.save({ ...a, color: '#111111' }),
) {
  const server = new FakeAnnotationServer();
  const one = await device(server);
  const two = await device(server);
  const a = ink();
  await one.store.save(a);
  await settle(one.store, two.store);
  two.transport.online = false;
  await two.store.save({ ...a, color: '#222222' });
  await change(one.store, a);
  await settle(one.store);
  two.transport.deaf = true;
  two.transport.reconnect();
  await settle(two.store);
  return { server, two, a };
}

describe('annotation store', () => {
  it('shows a change at once, sends it with a key and base_version 0, and keeps the ack', async () => {
    const server = new FakeAnnotationServer();
    const { store, pending } = await device(server);
    const a = ink();
    const saving = store.save(a);
    expect(store.shown.get(a.id)?.strokes).toEqual(a.strokes);
    await saving;
    await settle(store);
    expect(server.calls[0]!.payload).toMatchObject({ id: a.id, base_version: 0 });
    expect(server.calls[0]!.payload.idempotency_key).toMatch(/^[0-9a-f-]{36}$/);
    expect(store.shown.get(a.id)?.version).toBe(1);
    expect(await pending.list()).toEqual([]);
  });

  it('a change made while the previous is in flight builds on it: no conflict', async () => {
    const server = new FakeAnnotationServer();
    const { store, notices } = await device(server);
    const a = ink();
    await store.save(a);
    await store.save({ ...a, color: '#0000ff' });
    await store.save({ ...a, color: '#00aa00' });
    await settle(store);
    expect(notices.filter((n) => n.kind !== 'saved')).toEqual([]);
    expect(server.rows.get(a.id)).toMatchObject({ version: 3, color: '#00aa00' });
    expect(server.calls.map((c) => c.payload.base_version)).toEqual([0, 1, 2]);
  });

  it('offline: queued; a lost ack is sent again with the same key and applied once', async () => {
    const server = new FakeAnnotationServer();
    const { store, transport, pending } = await device(server);
    transport.online = false;
    const a = ink();
    await store.save(a);
    await settle(store);
    expect(await pending.list()).toHaveLength(1);
    transport.loseAcks = 1;
    transport.reconnect();
    await settle(store);
    const keys = server.calls.filter((c) => c.name === 'annotation.upsert').map((c) => c.payload.idempotency_key);
    expect(keys).toHaveLength(2);
    expect(keys[0]).toBe(keys[1]);
    expect(server.rows.get(a.id)?.version).toBe(1);
    expect(store.shown.get(a.id)?.version).toBe(1);
    expect(await pending.list()).toEqual([]);
  });

  it('after a reload while offline the kept changes are shown, then sent once each', async () => {
    const server = new FakeAnnotationServer();
    const first = await device(server);
    const kept = await device(server); // its PendingStore stands for IndexedDB across the reload
    const edited = ink();
    await first.store.save(edited);
    await settle(first.store, kept.store);
    kept.transport.online = false;
    const drawn = ink(newId(), 200);
    await kept.store.save(drawn);
    await kept.store.save({ ...edited, color: '#0000ff' });
    kept.store.stop();

    // the page is reloaded, still offline: a new store over the same pending changes
    const transport = server.device(1);
    transport.online = false;
    const store = new AnnotationStore({
      userId: 1, documentId: 7, versionId: VERSION, transport, api: server.api(1), pending: kept.pending,
    });
    await store.start();
    expect(store.shown.get(drawn.id)).toMatchObject({ strokes: drawn.strokes, mine: true });
    expect(store.shown.get(edited.id)).toMatchObject({ color: '#0000ff' });

    transport.reconnect();
    await settle(store);
    expect(server.rows.get(drawn.id)?.version).toBe(1);
    expect(server.rows.get(edited.id)).toMatchObject({ version: 2, color: '#0000ff' });
    expect(await kept.pending.list()).toEqual([]);
  });

  it('the same user sees a stroke of another device as soon as it is stored', async () => {
    const server = new FakeAnnotationServer();
    const one = await device(server);
    const two = await device(server);
    const a = ink();
    await one.store.save(a);
    await settle(one.store, two.store);
    expect(two.store.shown.get(a.id)).toMatchObject({ version: 1, mine: true });
    expect(two.store.cursor).toBe(1);
  });

  it('a missed user event is caught up with annotation.sync from the last cursor', async () => {
    const server = new FakeAnnotationServer();
    const one = await device(server);
    const two = await device(server);
    two.transport.deaf = true;
    const first = ink();
    await one.store.save(first);
    await settle(one.store);
    two.transport.deaf = false;
    const second = ink();
    await one.store.save(second);
    await settle(one.store, two.store);
    expect(server.calls.some((c) => c.name === 'annotation.sync' && c.payload.since === 0)).toBe(true);
    expect([...two.store.shown.keys()].sort()).toEqual([first.id, second.id].sort());
  });

  it('stale_version is a conflict, never a silent overwrite; "keep mine" re-sends on the current', async () => {
    const { server, two, a } = await conflicting();
    expect(server.rows.get(a.id)).toMatchObject({ version: 2, color: '#111111' });
    expect(two.notices).toContainEqual({ kind: 'conflict', id: a.id });
    expect(two.store.shown.get(a.id)?.color).toBe('#111111');
    expect(two.store.conflicts.get(a.id)?.mine.color).toBe('#222222');
    await two.store.resolve(a.id, 'mine');
    await settle(two.store);
    expect(server.rows.get(a.id)).toMatchObject({ version: 3, color: '#222222' });
    expect(two.store.conflicts.size).toBe(0);
  });

  it('"keep the other" leaves the stored annotation alone', async () => {
    const { server, two, a } = await conflicting();
    await two.store.resolve(a.id, 'theirs');
    await settle(two.store);
    expect(server.rows.get(a.id)).toMatchObject({ version: 2, color: '#111111' });
    expect(two.store.conflicts.size).toBe(0);
  });

  it('a delete on another device wins over an edit made offline', async () => {
    const { server, two, a } = await conflicting((store, a) => store.remove(a.id));
    expect(two.notices).toContainEqual({ kind: 'deleted_elsewhere', id: a.id });
    expect(two.store.shown.has(a.id)).toBe(false);
    expect(server.rows.get(a.id)?.deleted).toBe(true);
  });

  it('undo of an erase makes the annotation again under a new id; redo erases that one', async () => {
    const server = new FakeAnnotationServer();
    const { store } = await device(server);
    const a = ink();
    await store.save(a);
    await store.remove(a.id);
    await settle(store);
    await store.undo();
    await settle(store);
    const [back] = store.list();
    expect(back!.id).not.toBe(a.id);
    expect(back!.strokes).toEqual(a.strokes);
    expect(server.rows.get(back!.id)?.version).toBe(1);
    await store.redo();
    await settle(store);
    expect(store.list()).toEqual([]);
    expect(server.rows.get(back!.id)?.deleted).toBe(true);
    await store.undo(); // the erase again
    await store.undo(); // the creation
    await settle(store);
    expect(store.list()).toEqual([]);
  });

  it("shows others' shared annotations of this document, and drops them when unshared", async () => {
    const server = new FakeAnnotationServer();
    const { store, transport } = await device(server, 1);
    const shared = theirs();
    transport.deliver('event', { type: 'annotation_shared', data: { annotation_id: shared.id, document_id: 7, annotation: shared } });
    await settle(store);
    expect(store.shown.get(shared.id)?.mine).toBe(false);
    transport.deliver('event', { type: 'annotation_unshared', data: { annotation_id: shared.id, document_id: 7 } });
    expect(store.shown.has(shared.id)).toBe(false);
    transport.deliver('event', { type: 'annotation_shared', data: { annotation_id: 'x', document_id: 8, annotation: { ...shared, id: 'x' } } });
    await settle(store);
    expect(store.shown.has('x')).toBe(false);
  });

  it('a refused change goes back to what the server holds, with the reason', async () => {
    const server = new FakeAnnotationServer();
    const { store, transport, notices } = await device(server);
    const a = ink();
    await store.save(a);
    await settle(store);
    const realCall = transport.call.bind(transport);
    transport.call = async (name, payload) =>
      name === 'annotation.upsert'
        ? { ok: false, error: { code: 'quota_exceeded', message: '' } }
        : realCall(name, payload);
    await store.save({ ...a, color: '#123456' });
    await settle(store);
    expect(store.shown.get(a.id)?.color).toBe('#d00000');
    expect(notices).toContainEqual({ kind: 'refused', id: a.id, code: 'quota_exceeded' });
  });
});

describe('after a new version', () => {
  it('lists the orphans of this version apart and does not draw them', async () => {
    const server = new FakeAnnotationServer();
    const placed = { ...ink(), user_id: 1, document_id: 7, version: 1, deleted: false, status: 'anchored' as const, carried_from: 'a', cursor: 1, created_at: '', updated_at: '' };
    const orphan = { ...placed, id: newId(), status: 'orphaned' as const, carried_from: 'b' };
    const older = { ...orphan, id: newId(), document_version_id: VERSION - 1 };
    for (const a of [placed, orphan, older]) server.rows.set(a.id, a);
    const { store } = await device(server);
    expect(store.list().map((a) => a.id)).toEqual([placed.id]);
    expect(store.orphans.map((a) => a.id)).toEqual([orphan.id]);
  });
});

describe('reconnecting', () => {
  it("reads the list again: a member's annotation shared while this device was down appears", async () => {
    const server = new FakeAnnotationServer();
    const { store, transport } = await device(server, 1);
    transport.online = false;
    const shared = theirs();
    server.rows.set(shared.id, shared);
    transport.reconnect();
    await settle(store);
    expect(store.shown.get(shared.id)?.mine).toBe(false);
  });
});

/** The server's listing as it is now, answered only when `answer` is called: a slow request
 *  overtaken by user events. */
function heldListing(server: FakeAnnotationServer, userId = 1) {
  const api = server.api(userId);
  const held: (() => void)[] = [];
  let holding = false;
  const slow: AnnotationApi = {
    list: (id) => {
      const now = api.list(id); // read at once, as the server would
      return holding ? new Promise((r) => held.push(() => r(now))) : now;
    },
    orphaned: (id) => api.orphaned(id),
  };
  return {
    api: slow,
    hold: () => (holding = true),
    answer: (i = 0) => held.splice(i, 1)[0]!(),
  };
}

describe('a listing overtaken by events', () => {
  it('a stroke received while an older listing was on its way stays shown', async () => {
    const server = new FakeAnnotationServer();
    const one = await device(server);
    const slow = heldListing(server);
    const two = await device(server, 1, slow.api);
    slow.hold();
    const reloading = two.store.reload(); // asked before the stroke is stored
    const a = ink();
    await one.store.save(a);
    await settle(one.store, two.store);
    expect(two.store.shown.has(a.id)).toBe(true);
    slow.answer();
    await reloading;
    expect(two.store.shown.get(a.id)).toMatchObject({ version: 1, mine: true });
  });

  it('an older listing does not roll back a newer version received meanwhile', async () => {
    const server = new FakeAnnotationServer();
    const one = await device(server);
    const slow = heldListing(server);
    const two = await device(server, 1, slow.api);
    const a = ink();
    await one.store.save(a);
    await settle(one.store, two.store);
    slow.hold();
    const reloading = two.store.reload(); // lists version 1
    await one.store.save({ ...a, color: '#0b57d0' });
    await settle(one.store, two.store);
    slow.answer();
    await reloading;
    expect(two.store.shown.get(a.id)).toMatchObject({ version: 2, color: '#0b57d0' });
  });

  it("does not bring back another member's annotation unshared meanwhile", async () => {
    const server = new FakeAnnotationServer();
    const shared = theirs();
    server.rows.set(shared.id, shared);
    const slow = heldListing(server);
    const { store, transport } = await device(server, 1, slow.api);
    expect(store.shown.has(shared.id)).toBe(true);
    slow.hold();
    const reloading = store.reload();
    transport.deliver('event', { type: 'annotation_unshared', data: { annotation_id: shared.id, document_id: 7 } });
    slow.answer();
    await reloading;
    expect(store.shown.has(shared.id)).toBe(false);
  });

  it('two reloads answered out of order: the later one decides', async () => {
    const server = new FakeAnnotationServer();
    const slow = heldListing(server);
    const { store } = await device(server, 1, slow.api);
    slow.hold();
    const first = store.reload(); // before the member shares
    const shared = theirs();
    server.rows.set(shared.id, shared);
    const second = store.reload();
    slow.answer(1);
    await second;
    expect(store.shown.has(shared.id)).toBe(true);
    slow.answer(0);
    await first;
    expect(store.shown.has(shared.id)).toBe(true);
  });
});
