// Refusals from the signing and records routes in words (docs/WEBAPP.md, "Signing and
// records"); every message says whether the document was signed (it never is half-signed).
import { m } from '$lib/paraglide/messages.js';
import { ApiError } from '$lib/api';

export function signingError(error: unknown): string {
  if (!(error instanceof ApiError)) return m.signing_error_other({ code: '?', detail: String(error) });
  switch (error.code) {
    case 'reauth_failed':
      return m.signing_error_reauth();
    case 'rate_limited':
      return error.retryAfter
        ? m.signing_error_rate_limited({ seconds: String(error.retryAfter) })
        : m.signing_error_rate_limited_later();
    case 'tsa_unavailable':
      return m.signing_error_tsa_unavailable();
    case 'signing_failed':
      return m.signing_error_signing_failed({ detail: error.message });
    case 'signer_unavailable':
      return m.signing_error_signer_unavailable();
    case 'not_signable':
      return m.signing_error_not_signable();
    case 'changed':
      return m.signing_error_changed();
    case 'forbidden':
      return m.signing_error_forbidden();
    case 'bad_certificate':
      return m.signing_error_bad_certificate();
    case 'bad_signature':
      return m.signing_error_bad_signature();
    case 'session_expired':
      return m.signing_error_session_expired();
    case 'no_poll':
      return m.signing_records_error_no_poll();
    case 'poll_not_closed':
      return m.signing_records_error_poll_not_closed();
    case 'not_adopted':
      return m.signing_records_error_not_adopted();
    case 'resolution_locked':
      return m.signing_records_error_locked();
    case 'network':
      return m.signing_error_network();
    default:
      return m.signing_error_other({ code: error.code, detail: error.message });
  }
}
