/** The words for the server's refusals on the desk (docs/API.md, "Errors"). */
import { m } from '$lib/paraglide/messages.js';
import { ApiError } from '$lib/api';

const WORDS: Record<string, () => string> = {
  username_taken: m.desk_err_username_taken,
  bad_username: m.desk_err_bad_username,
  bad_email: m.desk_err_bad_email,
  missing_name: m.desk_err_missing_name,
  other_councils: m.desk_err_other_councils,
  admin_account: m.desk_err_admin_account,
  own_account: m.desk_err_own_account,
  weak_password: m.desk_err_weak_password,
  bad_file: m.desk_err_bad_file,
  too_large: m.desk_err_too_large,
  bad_header: m.desk_err_bad_header,
  empty_file: m.desk_err_empty_file,
  import_conflict: m.desk_err_import_conflict,
  illegal_transition: m.desk_err_illegal_transition,
  not_published: m.desk_err_not_published,
  meeting_locked: m.desk_err_meeting_locked,
  bad_quorum: m.desk_err_bad_quorum,
  already_invited: m.desk_err_already_invited,
  not_voting_member: m.desk_err_not_voting_member,
  validation: m.desk_err_validation,
  network: m.common_unreachable,
};

export function deskError(error: unknown): string {
  if (error instanceof ApiError) {
    const words = WORDS[error.code];
    return words ? words() : m.desk_err_other({ code: error.code });
  }
  return m.desk_err_other({ code: 'unknown' });
}

const PROBLEMS: Record<string, () => string> = {
  missing_name: m.desk_problem_missing_name,
  missing_username: m.desk_problem_missing_username,
  bad_username: m.desk_problem_bad_username,
  duplicate_username: m.desk_problem_duplicate_username,
  already_member: m.desk_problem_already_member,
  username_taken: m.desk_problem_username_taken,
  missing_role: m.desk_problem_missing_role,
  bad_role: m.desk_problem_bad_role,
  bad_email: m.desk_problem_bad_email,
  too_long: m.desk_problem_too_long,
};

/** A row problem of a member list in the user's language (the server's words otherwise). */
export function problemWords(code: string, message: string): string {
  return PROBLEMS[code]?.() ?? message;
}
