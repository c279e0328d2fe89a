/**
 * The sitting reducer: `applyEvent(state, event)` is the state after one meeting event, so
 * that a join snapshot plus every later event equals a fresh snapshot (docs/PROTOCOL.md,
 * "Events"). It mirrors Python's `realtime.events.apply_event`: the core events, and the poll
 * events as `meetings/services/voting/polls.py` would show them in a snapshot. A meeting state
 * holds no annotations (they are per user): `annotation_shared` / `annotation_unshared` only
 * advance `seq`, and `applyUserEvent` keeps a device's own annotations (docs/features/annotations.md,
 * "What a client holds"). Pure and immutable: parts an event does not touch keep their
 * identity, so Svelte re-renders only what changed. A fixture recorded from the real server
 * checks it (reducer.fixture.test.ts).
 */
import type {
  Annotation,
  AnnotationStore,
  MeetingDocument,
  MeetingEvent,
  MyBallot,
  Participant,
  Poll,
  Quorum,
  SittingState,
  Speaker,
  UserEvent,
  WireSnapshot,
  Item,
  Meeting,
  Choice,
} from './types';

/** The client's state from a `meeting.join` snapshot. */
export function fromSnapshot(snap: WireSnapshot): SittingState {
  const speakers: Record<number, Speaker[]> = {};
  for (const s of snap.speakers) (speakers[s.item_id] ??= []).push(s);
  for (const list of Object.values(speakers)) list.sort(bySpeakerOrder);
  const polls: Record<number, Poll> = {};
  for (const p of snap.polls ?? []) polls[p.id] = p;
  const myBallots: Record<number, MyBallot> = {};
  for (const [id, b] of Object.entries(snap.my_ballots ?? {})) myBallots[Number(id)] = b;
  const state: SittingState = {
    meeting: snap.meeting,
    quorum: snap.quorum,
    agenda: snap.agenda,
    speakers,
    documents: snap.documents,
    polls,
    myBallots,
    seq: snap.seq,
    serverTime: snap.server_time,
  };
  if (snap.participants) state.participants = snap.participants;
  if ('me' in snap) state.me = snap.me ?? null;
  return state;
}

function bySpeakerOrder(a: Speaker, b: Speaker): number {
  return a.position - b.position || a.id - b.id;
}

function byName(a: Participant, b: Participant): number {
  // Python's sorted() on str: code point order (the server's SQLite collation is the same)
  return a.name < b.name ? -1 : a.name > b.name ? 1 : a.user_id - b.user_id;
}

type Data = Record<string, any>;

/** The state after `event` (the next seq). Unknown types only advance `seq`. */
export function applyEvent(state: SittingState, event: MeetingEvent): SittingState {
  const data = event.data as Data;
  const next = reduce(state, event.type, data);
  return {
    ...next,
    meeting: next.meeting.seq === event.seq ? next.meeting : { ...next.meeting, seq: event.seq },
    seq: event.seq,
    serverTime: event.at,
  };
}

function reduce(state: SittingState, type: string, data: Data): SittingState {
  switch (type) {
    case 'meeting_created':
    case 'meeting_updated':
      return { ...state, meeting: { ...(data as Meeting) } };
    case 'meeting_status_changed':
      return {
        ...state,
        meeting: {
          ...state.meeting,
          status: data.status,
          opened_at: data.opened_at,
          closed_at: data.closed_at,
        },
      };
    case 'current_item_changed':
      return currentItem(state, data.item_id ?? null, data.previous_item_id ?? null);
    case 'agenda_changed':
      return { ...state, agenda: data.items as Item[] };
    case 'speakers_changed':
      return speakersChanged(state, data.item_id as number, data.speakers as Speaker[]);
    case 'attendance_changed':
    case 'participant_added':
    case 'participant_removed':
      return attendance(state, type, data);
    case 'document_removed':
      return {
        ...state,
        documents: state.documents.filter((d) => d.id !== data.document_id),
      };
    case 'document_added':
    case 'document_version_added':
    case 'document_updated':
      return data.document ? documentChanged(state, data.document as MeetingDocument) : state;
    case 'poll_created':
      return setPoll(state, data.poll as Poll);
    case 'poll_opened':
      // a fresh snapshot counts the ballots of an open poll (none yet)
      return {
        ...setPoll(state, { ...(data.poll as Poll), voted: 0 }),
        quorum: sameQuorum(state.quorum, data.quorum as Quorum | undefined),
      };
    case 'poll_closed':
      return pollClosed(state, data.poll as Poll, data.voted as number);
    case 'poll_published':
      return pollPublished(state, data.poll as Poll);
    case 'poll_cancelled':
      return pollCancelled(state, data.poll as Poll);
    case 'annotation_shared':
    case 'annotation_unshared':
      return state; // the document's viewer applies them; the meeting state holds none
    default:
      return state;
  }
}

function sameQuorum(old: Quorum, q: Quorum | undefined): Quorum {
  if (!q) return old;
  const same =
    old.present === q.present && old.total === q.total && old.needed === q.needed && old.met === q.met;
  return same ? old : q;
}

function currentItem(state: SittingState, itemId: number | null, previous: number | null): SittingState {
  let changed = false;
  const agenda = state.agenda.map((item) => {
    // the previous item is done, the new one current (Python's order: done first)
    let status = item.status;
    if (item.id === previous) status = 'done';
    if (item.id === itemId) status = 'current';
    if (status === item.status) return item;
    changed = true;
    return { ...item, status };
  });
  return {
    ...state,
    meeting: { ...state.meeting, current_item_id: itemId },
    agenda: changed ? agenda : state.agenda,
  };
}

function speakersChanged(state: SittingState, itemId: number, list: Speaker[]): SittingState {
  const speakers = { ...state.speakers };
  if (list.length) speakers[itemId] = [...list].sort(bySpeakerOrder);
  else delete speakers[itemId];
  return { ...state, speakers };
}

function attendance(state: SittingState, type: string, data: Data): SittingState {
  const { quorum, ...row } = data as Data & { quorum: Quorum };
  const userId = row.user_id as number;
  const out: SittingState = { ...state, quorum: sameQuorum(state.quorum, quorum) };
  if (state.participants) {
    const old = state.participants.find((p) => p.user_id === userId);
    const rows = state.participants.filter((p) => p.user_id !== userId);
    if (type !== 'participant_removed') rows.push({ ...(old ?? {}), ...row } as Participant);
    out.participants = rows.sort(byName);
  } else if (state.me && state.me.user_id === userId) {
    out.me = type === 'participant_removed' ? null : ({ ...state.me, ...row } as Participant);
  }
  return out;
}

function documentChanged(state: SittingState, doc: MeetingDocument): SittingState {
  const docs = state.documents.filter((d) => d.id !== doc.id);
  docs.push(doc);
  docs.sort((a, b) => a.id - b.id);
  return { ...state, documents: docs };
}

// --- polls --------------------------------------------------------------------------------------

function setPoll(state: SittingState, poll: Poll): SittingState {
  return { ...state, polls: { ...state.polls, [poll.id]: poll } };
}

/** Fields a poll event does not carry but a snapshot shows: what we already know of them. */
function kept(old: Poll | undefined, keys: ('result' | 'votes' | 'voted')[]): Partial<Poll> {
  const out: Partial<Poll> = {};
  if (!old) return out;
  for (const key of keys) if (old[key] !== undefined) (out as Data)[key] = old[key];
  return out;
}

function pollClosed(state: SittingState, poll: Poll, voted: number): SittingState {
  // The event has no result: a member sees it from publication. Staff see it from the close
  // (the `poll.close` ack or GET /api/polls/{id}, merged by `applyPoll`); keep one already merged.
  const old = state.polls[poll.id];
  const known = old?.status === 'closed' ? kept(old, ['result', 'votes']) : {};
  return setPoll(state, { ...poll, ...known, voted });
}

function pollPublished(state: SittingState, poll: Poll): SittingState {
  const old = state.polls[poll.id];
  // the event has no `voted`: the count stopped at the close
  const voted = poll.voted ?? old?.voted ?? poll.result?.ballots;
  return setPoll(state, voted === undefined ? poll : { ...poll, voted });
}

function pollCancelled(state: SittingState, poll: Poll): SittingState {
  // a cancelled poll is not counted: no `voted`, no result, and no entry in my_ballots
  const { voted: _v, result: _r, votes: _vs, ...bare } = poll;
  const out = setPoll(state, bare as Poll);
  if (!(poll.id in state.myBallots)) return out;
  const myBallots = { ...state.myBallots };
  delete myBallots[poll.id];
  return { ...out, myBallots };
}

/**
 * A poll object from an ack (`poll.close` carries the result for the chair) or from
 * `GET /api/polls/{id}`: merged when it is not older than what the state shows.
 */
export function applyPoll(state: SittingState, poll: Poll): SittingState {
  const old = state.polls[poll.id];
  if (old && rank(poll.status) < rank(old.status)) return state;
  if (old && rank(poll.status) === rank(old.status) && old.status !== poll.status) return state;
  const merged: Poll = { ...(old ?? {}), ...poll } as Poll;
  if (merged.status === 'cancelled') return pollCancelled(state, merged);
  return setPoll(state, merged);
}

const ORDER = ['draft', 'open', 'closed', 'published'];

function rank(status: string): number {
  return status === 'cancelled' ? ORDER.length : ORDER.indexOf(status);
}

/**
 * The caller's own ballot after a `ballot.cast` ack: `{voted, choice}` for open polls,
 * `{voted}` for secret ones (the receipt is the view's to keep), as `my_ballots` would show it.
 */
export function applyBallotAck(state: SittingState, ack: Data): SittingState {
  const pollId = Number(ack.poll_id);
  if (!Number.isFinite(pollId)) return state;
  const ballot: MyBallot =
    ack.secret || ack.choice === undefined
      ? { voted: true }
      : { voted: true, choice: ack.choice as Choice };
  return { ...state, myBallots: { ...state.myBallots, [pollId]: ballot } };
}

/** The documents after a refetch (`GET /api/meetings/{id}/documents`): restricted ones are
 *  only named in events, so readers refetch. The list's `offline_expires_at` is a lease on that
 *  answer (the briefcase reads it from its own fetch), not the meeting's state: left out. */
export function applyDocuments(state: SittingState, documents: MeetingDocument[]): SittingState {
  const stateOnly = documents.map((d) => {
    const { offline_expires_at: _lease, ...rest } = d as MeetingDocument & {
      offline_expires_at?: string | null;
    };
    return rest as MeetingDocument;
  });
  return { ...state, documents: stateOnly.sort((a, b) => a.id - b.id) };
}

// --- a device's own annotations (user events) -------------------------------------------------

/** The store from `annotation.sync` pages (every annotation changed since 0, and the cursor). */
export function fromSync(annotations: Annotation[], cursor: number): AnnotationStore {
  const byId: Record<string, Annotation> = {};
  for (const a of annotations) byId[a.id] = a;
  return { annotations: byId, cursor };
}

/**
 * The store after one `user_event`. `annotations_carried` with `more` (over 200 carried) is a
 * hint, not the whole change: the device then calls `annotation.sync` from its cursor. Other
 * user events (`invitation`) leave the store as it is.
 */
export function applyUserEvent(store: AnnotationStore, event: UserEvent): AnnotationStore {
  const data = event.data as Data;
  let changed: Annotation[];
  if (event.type === 'annotation_changed') changed = [data.annotation as Annotation];
  else if (event.type === 'annotations_carried') changed = data.annotations as Annotation[];
  else return store;
  const annotations = { ...store.annotations };
  for (const a of changed) annotations[a.id] = a;
  return { annotations, cursor: Math.max(store.cursor, Number(data.cursor)) };
}
