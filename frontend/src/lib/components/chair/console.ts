// What the chair's components share: the slice of the sitting store they read, the way a command
// is run (ack → words in the live region or an error in words), and the error wording.
import { m } from '$lib/paraglide/messages.js';
import type { Ack, AckError, CommandOptions, Presence, Progress, Quorum, SittingState } from '$lib/realtime/types';

/** The part of `createSitting()` the console uses (docs/WEBAPP.md, shared contract). */
export interface SittingLike {
  state: SittingState | null;
  synced: boolean;
  presence?: Presence | null;
  progress: Record<number, Progress>;
  voters: Record<number, number[]>;
  serverOffsetMs: number;
  command(name: string, payload: Record<string, unknown>, opts?: CommandOptions): Promise<Ack>;
}

export interface Powers {
  /** open/close, agenda, speakers, running polls: the chair (or an administrator) */
  chair: boolean;
  /** record attendance, create polls: the chair and the secretariat */
  staff: boolean;
}

/** Runs a command; `done` gets the ack when it succeeded. Returns the error in words, or null. */
export type Run = (
  name: string,
  payload: Record<string, unknown>,
  done?: (ack: Record<string, unknown>) => string | void,
) => Promise<string | null>;

function details(error: AckError): Record<string, unknown> {
  return error.details && typeof error.details === 'object' ? (error.details as Record<string, unknown>) : {};
}

/** An ack's error in the chair's words; never a bare code. */
export function errorText(error: AckError, quorum?: Quorum | null): string {
  const d = details(error);
  switch (error.code) {
    case 'no_quorum':
      return m.chair_error_no_quorum({
        present: String(d.present ?? quorum?.present ?? '?'),
        total: String(d.total ?? quorum?.total ?? '?'),
        needed: String(d.needed ?? quorum?.needed ?? '?'),
      });
    case 'poll_open':
      return m.chair_error_poll_open();
    case 'meeting_not_open':
      return m.chair_error_meeting_not_open();
    case 'forbidden':
      return m.chair_error_forbidden();
    case 'offline':
      return m.chair_error_offline();
    case 'timeout':
      return m.chair_error_timeout();
    case 'not_found':
      return m.chair_error_not_found();
    case 'illegal_transition':
      return m.chair_error_illegal_transition();
    case 'already_requested':
      return m.chair_error_already_requested();
    case 'not_waiting':
      return m.chair_error_not_waiting();
    case 'not_speaking':
      return m.chair_error_not_speaking();
    case 'bad_order':
      return m.chair_error_bad_order();
    case 'not_participant':
      return m.chair_error_not_participant();
    case 'reason_required':
      return m.chair_error_reason_required();
    case 'invalid_spec':
    case 'invalid_rule':
      return m.chair_error_invalid_spec({ message: error.message });
    case 'secret_running_tally':
      return m.chair_error_secret_running_tally();
    case 'validation':
      return m.chair_error_validation({ message: error.message });
    case 'rate_limited':
      return m.chair_error_rate_limited();
    case 'meeting_locked':
      return m.chair_error_meeting_locked();
    case 'unauthenticated':
      return m.chair_error_unauthenticated();
    case 'internal':
      return m.chair_error_internal();
    default:
      return m.chair_error({ message: error.message || error.code });
  }
}

export const STATUS_WORDS: Record<string, () => string> = {
  draft: m.chair_status_draft,
  published: m.chair_status_published,
  open: m.chair_status_open,
  closed: m.chair_status_closed,
  archived: m.chair_status_archived,
};

export const ATTENDANCE_WORDS: Record<string, () => string> = {
  present: m.chair_attendance_present,
  absent: m.chair_attendance_absent,
  excused: m.chair_attendance_excused,
  unknown: m.chair_attendance_unknown,
};

export const POLL_STATUS_WORDS: Record<string, () => string> = {
  draft: m.chair_poll_status_draft,
  open: m.chair_poll_status_open,
  closed: m.chair_poll_status_closed,
  published: m.chair_poll_status_published,
  cancelled: m.chair_poll_status_cancelled,
};

export const KIND_WORDS: Record<string, () => string> = {
  motion: m.chair_kind_motion,
  election: m.chair_kind_election,
  confidence: m.chair_kind_confidence,
};

export const OUTCOME_WORDS: Record<string, () => string> = {
  adopted: m.chair_outcome_adopted,
  rejected: m.chair_outcome_rejected,
  elected: m.chair_outcome_elected,
  partial: m.chair_outcome_partial,
  tie: m.chair_outcome_tie,
  recorded: m.chair_outcome_recorded,
};

/** A motion's option in the council's words; candidates keep their names. */
export function optionWords(option: string, kind: string): string {
  if (option === 'abstain') return m.chair_choice_abstain();
  if (kind === 'motion' && option === 'yes') return m.chair_choice_yes();
  if (kind === 'motion' && option === 'no') return m.chair_choice_no();
  return option;
}

/** Why a control is disabled (null: it is enabled). `open`: it needs the sitting open. */
export type Gate = (who: 'chair' | 'staff', open?: boolean) => string | null;
