/**
 * The shapes of the realtime protocol (docs/PROTOCOL.md, docs/features/voting.md) and of the client's
 * sitting state. Wire types mirror the server's JSON (snake_case, as sent); `SittingState` is
 * the client's own shape, built from a join snapshot (`fromSnapshot` in reducer.ts) and kept
 * current by applying events (`applyEvent`).
 */

/** ISO 8601 timestamp as the server writes it (UTC). */
export type Iso = string;

export interface QuorumRule {
  num: number;
  den: number;
  strict: boolean;
}

export type MeetingStatus = 'draft' | 'published' | 'open' | 'closed' | 'archived' | (string & {});

export interface Meeting {
  id: number;
  council_id: number;
  title: string;
  session_name: string;
  location: string;
  starts_at: Iso | null;
  status: MeetingStatus;
  current_item_id: number | null;
  seq: number;
  quorum_rule: QuorumRule;
  opened_at: Iso | null;
  closed_at: Iso | null;
}

export interface Quorum {
  present: number;
  total: number;
  needed: number;
  met: boolean;
}

export type ItemStatus = 'pending' | 'current' | 'done' | 'skipped' | (string & {});

export interface Item {
  id: number;
  parent_id: number | null;
  position: number;
  /** "1", "1.2", … numbered by the server */
  number: string;
  title: string;
  description: string;
  presenter: string;
  duration_minutes: number | null;
  status: ItemStatus;
}

export type SpeakerStatus = 'waiting' | 'speaking' | 'done' | 'withdrawn' | (string & {});

export interface Speaker {
  id: number;
  item_id: number;
  user_id: number;
  name: string;
  status: SpeakerStatus;
  position: number;
  requested_at: Iso | null;
  started_at: Iso | null;
  stopped_at: Iso | null;
  time_limit_s: number | null;
}

export interface DocumentVersion {
  id: number;
  number: number;
  sha256: string;
  size: number;
  page_count: number | null;
  page_sizes: unknown;
  filename: string;
  uploaded_at: Iso | null;
  note: string | null;
}

export interface MeetingDocument {
  id: number;
  meeting_id: number;
  agenda_item_id: number | null;
  title: string;
  visibility: string;
  created_at: Iso | null;
  current_version: DocumentVersion | null;
  versions: DocumentVersion[];
  /** staff only, for restricted and confidential documents */
  allowed_user_ids?: number[];
}

export type Attendance = 'unknown' | 'present' | 'absent' | 'excused' | (string & {});

export interface Participant {
  user_id: number;
  name: string;
  username: string;
  voting: boolean;
  attendance: Attendance;
  checked_in_at: Iso | null;
  recorded_how: string;
}

export type PollKind = 'motion' | 'election' | 'confidence' | (string & {});
export type PollStatus = 'draft' | 'open' | 'closed' | 'published' | 'cancelled' | (string & {});

/** Motion: 'yes' | 'no' | 'abstain'; election: candidates or 'abstain'; confidence: a map. */
export type Choice = string | string[] | Record<string, string>;

export interface PollCount {
  option: string;
  value: number;
}

/** `PollResult.to_dict()` (docs/features/voting.md, "Wire format"). */
export interface PollResult {
  outcome: string;
  ballots: number;
  abstentions: number;
  counts: PollCount[];
  rule: unknown;
  rule_text: string;
  base_size: number;
  threshold: number | string;
  present: number;
  members: number;
  elected?: string[];
  tied?: string[];
  confidence?: unknown;
  [more: string]: unknown;
}

export interface PollVoteRow {
  user_id: number;
  name: string;
  choice: Choice;
}

export interface Poll {
  id: number;
  meeting_id: number;
  agenda_item_id: number | null;
  title: string;
  description: string;
  kind: PollKind;
  secret: boolean;
  /** `PollSpec.to_dict()`: options, candidates, seats, majority … */
  spec: Record<string, unknown>;
  show_running: boolean;
  duration_s: number | null;
  status: PollStatus;
  opened_at: Iso | null;
  closes_at: Iso | null;
  closed_at: Iso | null;
  published_at: Iso | null;
  cancelled_at: Iso | null;
  cancel_reason: string | null;
  /** as the caller may see it: staff from the close, everyone from publication */
  result?: PollResult;
  /** open (non-secret) polls with a visible result */
  votes?: PollVoteRow[];
  /** ballots counted so far (open, closed, published polls) */
  voted?: number;
}

/** The caller's own ballot (`my_ballots`); a secret poll's receipt stays on the device. */
export interface MyBallot {
  voted: true;
  /** open polls only */
  choice?: Choice;
}

export interface Presence {
  version: number;
  users: Record<string, number>;
  online: number;
  devices: number;
}

/** Live vote progress (`update` `poll_progress`). */
export interface Progress {
  voted: number;
  present: number;
  members: number;
  tally?: { counts: PollCount[]; ballots: number; abstentions: number };
}

/** The snapshot as sent by `meeting.join` (wire shape). */
export interface WireSnapshot {
  meeting: Meeting;
  quorum: Quorum;
  agenda: Item[];
  speakers: Speaker[];
  documents: MeetingDocument[];
  polls: Poll[];
  my_ballots: Record<string, MyBallot>;
  participants?: Participant[];
  me?: Participant | null;
  presence?: Presence;
  seq: number;
  server_time: Iso;
}

/** The client's sitting state (what views read from `s.state`). */
export interface SittingState {
  meeting: Meeting;
  quorum: Quorum;
  agenda: Item[];
  /** each item's list, ordered by position (items without speakers are absent) */
  speakers: Record<number, Speaker[]>;
  documents: MeetingDocument[];
  polls: Record<number, Poll>;
  myBallots: Record<number, MyBallot>;
  /** staff and displays: the roster with attendance */
  participants?: Participant[];
  /** a member: their own participant row (null if not a participant) */
  me?: Participant | null;
  seq: number;
  /** the server's time when the state was last known current (snapshot or last resync) */
  serverTime: Iso;
}

export interface MeetingEvent<D = Record<string, unknown>> {
  seq: number;
  type: string;
  meeting_id: number;
  at: Iso;
  data: D;
}

/** A `user_event`: to one user's devices, not in any meeting's log (docs/features/annotations.md). */
export interface UserEvent<D = Record<string, unknown>> {
  type: 'annotation_changed' | 'annotations_carried' | 'invitation' | (string & {});
  at: Iso;
  data: D;
}

/** An annotation as the server answers it (docs/features/annotations.md, "Model"); `id` a client UUID. */
export interface Annotation {
  id: string;
  cursor: number;
  deleted: boolean;
  [field: string]: unknown;
}

/**
 * A device's own annotations (docs/features/annotations.md, "What a client holds"): every annotation
 * by id, tombstones included, and the highest cursor applied. Not part of a meeting's state.
 */
export interface AnnotationStore {
  annotations: Record<string, Annotation>;
  cursor: number;
}

export interface Update<D = Record<string, unknown>> {
  type: 'presence' | 'poll_progress' | 'poll_voters' | (string & {});
  meeting_id: number;
  data: D;
}

export interface AckError {
  code: string;
  message: string;
  details?: unknown;
}

export type AckOk = { ok: true } & Record<string, unknown>;
export type AckFail = { ok: false; error: AckError };
export type Ack = AckOk | AckFail;

export type ConnectionState = 'connecting' | 'online' | 'offline' | 'resyncing' | 'unauthenticated';

export interface CommandOptions {
  /** resend with the same idempotency key after a reconnect (never for ballots offline) */
  retry?: boolean;
  /** ack timeout in ms (default 10 000) */
  timeoutMs?: number;
}

/** `meeting.join` ack: a snapshot, or the events missed since `since_seq`. */
export interface JoinAck {
  ok: true;
  seq: number;
  snapshot?: WireSnapshot;
  events?: MeetingEvent[];
  server_time?: Iso;
  presence?: Presence;
  /** staff and displays: each open poll's progress at the join */
  progress?: (Progress & { poll_id: number })[];
  /** staff: who has voted in each open poll */
  voters?: Record<string, number[]>;
}
