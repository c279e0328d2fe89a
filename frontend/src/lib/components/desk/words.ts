// The desk's words for server values (docs/features/documents.md, visibility).
import { m } from '$lib/paraglide/messages.js';

export const VISIBILITY_WORDS: Record<string, () => string> = {
  public: m.desk_visibility_public,
  members: m.desk_visibility_members,
  restricted: m.desk_visibility_restricted,
  confidential: m.desk_visibility_confidential,
};

export const VISIBILITY_HELP: Record<string, () => string> = {
  public: m.desk_visibility_public_help,
  members: m.desk_visibility_members_help,
  restricted: m.desk_visibility_restricted_help,
  confidential: m.desk_visibility_confidential_help,
};
