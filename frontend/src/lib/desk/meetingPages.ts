/**
 * What the secretariat's meeting pages share (docs/WEBAPP.md, "The secretariat's meeting
 * pages"): the meeting and the caller's role in its council, and refusals in words.
 */
import { api, ApiError } from '$lib/api';
import { m } from '$lib/paraglide/messages.js';
import { session } from '$lib/session.svelte';
import type { Meeting } from '$lib/realtime/types';

export interface DeskMeeting {
  meeting: Meeting;
  /** the caller may prepare it: the council's secretariat or chair (or an administrator) */
  staff: boolean;
}

/** `GET /api/meetings/{id}` and whether the caller is staff of its council. */
export async function loadDeskMeeting(meetingId: number): Promise<DeskMeeting> {
  const meeting = await api.get<Meeting>(`/api/meetings/${meetingId}`);
  const role = session.roleIn(meeting.council_id);
  return { meeting, staff: role === 'secretary' || role === 'chair' };
}

/** May the agenda and documents of a meeting in this status still change (server: EDITABLE_MEETING)? */
export function editable(status: string): boolean {
  return status === 'draft' || status === 'published' || status === 'open';
}

function details(error: ApiError): Record<string, unknown> {
  return error.details && typeof error.details === 'object' ? (error.details as Record<string, unknown>) : {};
}

/** An upload's refusal in words (docs/API.md, "Uploads"; docs/features/documents.md, "Ingest"). */
export function uploadErrorText(error: unknown): string {
  if (!(error instanceof ApiError)) return m.desk_error_unknown({ code: String(error) });
  const d = details(error);
  switch (error.code) {
    case 'too_large':
      return m.desk_upload_too_large();
    case 'unsupported_media':
    case 'not_pdf':
      return m.desk_upload_not_pdf();
    case 'empty':
      return m.desk_upload_empty();
    case 'broken_pdf':
      return m.desk_upload_broken();
    case 'encrypted_pdf':
      return m.desk_upload_encrypted();
    case 'too_many_pages':
      return d.pages !== undefined && d.limit !== undefined
        ? m.desk_upload_too_many_pages_n({ pages: String(d.pages), limit: String(d.limit) })
        : m.desk_upload_too_many_pages();
    case 'pdf_too_complex':
      return d.page !== undefined
        ? m.desk_upload_too_complex_page({ page: String(d.page) })
        : m.desk_upload_too_complex();
    default:
      return errorText(error);
  }
}

/** Any other refusal of the desk's pages in words; never a bare code. */
export function errorText(error: unknown): string {
  if (!(error instanceof ApiError)) return m.desk_error_unknown({ code: String(error) });
  const d = details(error);
  switch (error.code) {
    case 'network':
      return m.desk_error_network();
    case 'aborted':
      return m.desk_upload_cancelled();
    case 'cycle':
      return m.desk_agenda_error_cycle();
    case 'too_deep':
      return m.desk_agenda_error_too_deep();
    case 'item_in_use': {
      const parts: string[] = [];
      if (d.polls) parts.push(m.desk_in_use_polls({ count: String(d.polls) }));
      if (d.resolutions) parts.push(m.desk_in_use_resolutions({ count: String(d.resolutions) }));
      if (d.documents) parts.push(m.desk_in_use_documents({ count: String(d.documents) }));
      if (d.speaker_requests) parts.push(m.desk_in_use_speakers({ count: String(d.speaker_requests) }));
      return m.desk_agenda_error_in_use({ what: parts.join(', ') || '—' });
    }
    case 'has_children':
      return m.desk_agenda_error_has_children();
    case 'current_item':
      return m.desk_agenda_error_current();
    case 'meeting_locked':
      return m.desk_error_locked();
    case 'forbidden':
      return m.desk_error_forbidden();
    case 'not_found':
      return m.desk_error_not_found();
    case 'unknown_users':
      return m.desk_error_unknown_users();
    case 'validation':
      return m.desk_error_validation({ message: error.message });
    case 'rate_limited':
      return m.desk_error_rate_limited();
    default:
      if (error.serverDown) return m.desk_error_server();
      return m.desk_error_unknown({ code: error.code });
  }
}
