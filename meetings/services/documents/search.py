"""Search across a meeting's documents (docs/features/annotations.md, "Search").

Pages are indexed by their folded text (`meetings.domain.text.fold`: lower case, no
diacritics, "đ" → "d"), so "nghị quyết", "nghi quyet" and "NGHI QUYET" find the same pages.
SQLite uses the FTS5 table `document_pages_fts`, PostgreSQL the GIN index on
`to_tsvector('simple', folded)`; both made by migration 0003 and kept current by the database
itself (triggers / expression index), so an upload is searchable as soon as it commits.
Only the current version of each document the caller may read is searched; every word of the
query must occur on the page (the last one as a prefix, for search-as-you-type). The snippet
is cut from the page's original text around the first match.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, text

from meetings.domain.errors import InvalidInput
from meetings.domain.text import make_snippet, tokens
from meetings.services.context import Actor, Services
from meetings.services.documents.library import documents_of
from meetings.services.loading import get_meeting

MAX_QUERY = 200
"""Characters of a query."""
MAX_WORDS = 12
"""Words of a query that are searched for."""
MAX_RESULTS = 100
"""Pages returned at most."""

_SQLITE = text(
    "SELECT p.version_id, p.page_no, p.text FROM document_pages_fts "
    "JOIN document_pages AS p ON p.id = document_pages_fts.rowid "
    "WHERE document_pages_fts MATCH :query AND p.version_id IN :ids "
    "ORDER BY document_pages_fts.rank, p.version_id, p.page_no LIMIT :limit"
).bindparams(bindparam("ids", expanding=True))
_POSTGRES = text(
    "SELECT p.version_id, p.page_no, p.text FROM document_pages AS p "
    "WHERE to_tsvector('simple', p.folded) @@ to_tsquery('simple', :query) "
    "AND p.version_id IN :ids "
    "ORDER BY ts_rank(to_tsvector('simple', p.folded), to_tsquery('simple', :query)) DESC, "
    "p.version_id, p.page_no LIMIT :limit"
).bindparams(bindparam("ids", expanding=True))


def _words(query: str) -> list[str]:
    if len(query) > MAX_QUERY:
        raise InvalidInput(f"a search is at most {MAX_QUERY} characters", code="bad_query")
    words = tokens(query)[:MAX_WORDS]
    if not words:
        raise InvalidInput("type at least one word to search for", code="bad_query")
    return words


def fts5_query(words: list[str]) -> str:
    """All words, the last as a prefix: `"nghi" "quyet"*` (quoted: no FTS5 syntax leaks)."""
    quoted = [f'"{w}"' for w in words]
    quoted[-1] += "*"
    return " ".join(quoted)


def tsquery(words: list[str]) -> str:
    """All words, the last as a prefix: `nghi & quyet:*` (tokens are letters and digits)."""
    return " & ".join([*words[:-1], words[-1] + ":*"])


async def search_meeting(
    services: Services,
    actor: Actor,
    meeting_id: int,
    query: str,
    limit: int = 50,
    document_id: int | None = None,
) -> dict[str, Any]:
    """Pages of the meeting's readable documents matching `query`; with `document_id`, of
    that document only (the reader's "search in this document")."""
    words = _words(query)
    limit = max(1, min(limit, MAX_RESULTS))
    async with services.db.reading() as session:
        meeting = await get_meeting(session, actor, meeting_id)
        docs = await documents_of(session, actor, meeting)
        current = {
            d["current_version"]["id"]: d
            for d in docs
            if d["current_version"] and document_id in (None, d["id"])
        }
        if not current:
            return {"query": query, "results": []}
        if services.db.sqlite:
            statement, q = _SQLITE, fts5_query(words)
        else:
            statement, q = _POSTGRES, tsquery(words)
        rows = (
            await session.execute(statement, {"query": q, "ids": list(current), "limit": limit})
        ).all()
    results = []
    for version_id, page_no, page_text in rows:
        doc = current[version_id]
        snippet = make_snippet(page_text, query) or make_snippet(page_text, words[0])
        results.append(
            {
                "document_id": doc["id"],
                "title": doc["title"],
                "document_version_id": version_id,
                "version": doc["current_version"]["number"],
                "page": page_no,
                "page_number": page_no + 1,
                "snippet": snippet.text if snippet else page_text[:160],
                "match": [snippet.start, snippet.end] if snippet else None,
            }
        )
    return {"query": query, "results": results}
