"""The reducer fixture of the web app: a scripted sitting recorded from a real server.

`uv run python -m tests.support.reducer_fixture` seeds a fresh SQLite database, starts a real
uvicorn server on loopback, has the chair and a delegate join, and runs a sitting through it:
attendance, a withdrawn and a renewed invitation, a meeting edit, an agenda change, the sitting
opened and moved through items, a speakers list, documents (added, new version, edited, a
restricted one made public and withdrawn), annotations (a second device of the delegate
shares, edits, unshares and deletes notes on a document, which a new version then carries) and
polls (published, closed unpublished, cancelled after a ballot, left in draft). For each viewer
it records the join snapshot before, what that viewer's client saw in order (events, the acks
of its own poll and ballot commands, and the refetches the web app makes: a poll after its
close for staff, the documents after a restricted one), and a fresh snapshot after; and its
annotation store: `annotation.sync` before, the user events its device got, a fresh sync after.
It checks that Python's `realtime.events.apply_event` (with `apply_poll`, `apply_ballot_ack`)
over the same steps gives the fresh snapshot's state fields and `apply_user_event` the fresh
sync, and writes frontend/src/lib/realtime/fixtures/sitting.json, which
`reducer.fixture.test.ts` replays through the TypeScript reducer.

Times differ on every run: the file holds them mapped, in order, onto a fixed clock (the n-th
distinct time becomes 2026-01-01T08:00:00.000Z + n s), so a new run changes the file only when
the server's behaviour changed; tests/integration/platform/test_reducer_fixture.py compares
with every time masked.
"""

from __future__ import annotations

import asyncio
import copy
import io
import json
import re
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fpdf import FPDF

from meetings.storage.tables import Meeting
from realtime.asgi import create_asgi_app
from realtime.client import QuorumClient
from realtime.events import (
    annotation_store,
    apply_ballot_ack,
    apply_event,
    apply_poll,
    apply_user_event,
)
from tests.conftest import PASSWORD, Running, _seed, http_session, server_settings, start_uvicorn

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "frontend/src/lib/realtime/fixtures/sitting.json"
ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$")
CORE = (
    "meeting",
    "quorum",
    "agenda",
    "speakers",
    "documents",
    "polls",
    "my_ballots",
    "participants",
    "me",
    "seq",
)
NOTES = [f"00000000-0000-4000-8000-00000000000{n}" for n in (1, 2)]
CLOCK = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)


def pdf(title: str) -> bytes:
    """A one-page PDF whose bytes are the same on every run (fixed creation date)."""
    doc = FPDF(format="A4")
    doc.set_creation_date(CLOCK)
    doc.set_font("helvetica", size=14)
    doc.add_page()
    doc.cell(0, 10, title)
    out = io.BytesIO()
    doc.output(out)
    return out.getvalue()


class Viewer:
    """One client and everything it saw, in order."""

    def __init__(self, name: str, client: QuorumClient) -> None:
        self.name = name
        self.client = client
        self.before: dict[str, Any] = {}
        self.steps: list[dict[str, Any]] = []
        self.after: dict[str, Any] = {}
        client.on_event = lambda event: self.steps.append({"event": event})


class Sitting:
    def __init__(self, server: Running, chair: Viewer, delegate: Viewer) -> None:
        self.server = server
        self.m = server.meeting_id
        self.chair = chair
        self.delegate = delegate
        self.viewers = (chair, delegate)
        self.secretary = ""
        self.ids: dict[str, int] = {}
        self.tokens: dict[str, str] = {}

    async def settle(self) -> None:
        """Every viewer has applied every event so far (acks then follow their events)."""
        seq = max(v.client.meetings[self.m].seq for v in self.viewers)
        async with self.server.services.db.reading() as session:
            found = await session.get(Meeting, self.m)
            assert found is not None
            seq = max(seq, found.last_seq)
        for viewer in self.viewers:
            await viewer.client.wait_for_seq(self.m, seq)

    async def by(self, viewer: Viewer, command: str, payload: dict[str, Any]) -> dict[str, Any]:
        """A command of a viewer; poll and ballot acks are recorded (the web app merges them)."""
        ack = await viewer.client.command(command, payload)
        await self.settle()
        if command.startswith("poll.") or command == "ballot.cast":
            viewer.steps.append({"ack": {"command": command, "ack": ack}})
        return ack

    async def rest(self, method: str, path: str, **kwargs: Any) -> Any:
        status, body, _ = await self.server.http(method, path, token=self.secretary, **kwargs)
        assert status < 300, (method, path, status, body)
        await self.settle()
        return body

    async def upload(self, title: str, **query: str) -> dict[str, Any]:
        params = {"title": title, "filename": f"{title}.pdf", **query}
        body: dict[str, Any] = await self.rest(
            "POST",
            f"/api/meetings/{self.m}/documents",
            params=params,
            data=pdf(title),
            headers={"content-type": "application/pdf"},
        )
        return body

    async def token(self, username: str) -> str:
        if username not in self.tokens:
            self.tokens[username] = await self.server.token(username)
        return self.tokens[username]

    async def refetch_documents(self) -> None:
        """What the web app does after a restricted document's event: GET the list again."""
        for viewer in self.viewers:
            token = await self.token(viewer.name)
            status, docs, _ = await self.server.http(
                "GET", f"/api/meetings/{self.m}/documents", token=token
            )
            assert status == 200, docs
            viewer.steps.append({"documents": docs})

    async def fetch_poll(self, poll_id: int) -> None:
        """What the web app does for staff after a poll's close: GET the poll (with result)."""
        token = await self.token("chair")
        status, poll, _ = await self.server.http("GET", f"/api/polls/{poll_id}", token=token)
        assert status == 200, poll
        self.chair.steps.append({"poll": poll})

    async def annotate(self, version_id: int) -> None:
        """The delegate's second device: a shared note (edited, then made private) and a
        private one deleted; the delegate's tablet hears them as user events, the meeting the
        shared one."""
        device = await self.server.client("delegate001")
        try:
            note = {
                "id": NOTES[0],
                "document_version_id": version_id,
                "kind": "note",
                "page": 0,
                "rect": [60, 700, 80, 720],
                "text": "Hỏi lại",
                "shared": True,
            }
            for change in ({}, {"text": "Hỏi lại số liệu"}, {"shared": False}):
                note |= change
                ack = await device.command("annotation.upsert", note)
                note["base_version"] = ack["annotation"]["version"]
                await self.settle()
            other = {**note, "id": NOTES[1], "text": "Nháp", "base_version": 0}
            await device.command("annotation.upsert", other)
            await device.command("annotation.delete", {"annotation_id": NOTES[1]})
            await self.settle()
        finally:
            await device.disconnect()

    async def settle_annotations(self) -> None:
        """Every viewer's device has the user events up to its user's annotation cursor."""
        for viewer in self.viewers:
            cursor = (await sync_annotations(viewer.client))["cursor"]
            async with asyncio.timeout(10):
                while user_cursor(viewer.client) < cursor:  # noqa: ASYNC110 - a plain list
                    await asyncio.sleep(0.02)

    async def run(self) -> None:
        m, chair, delegate = self.m, self.chair, self.delegate
        self.secretary = await self.token("secretary")
        self.ids = {p["username"]: p["user_id"] for p in chair.before["participants"]}
        items = [int(i["id"]) for i in chair.before["agenda"]]
        others = {u: await self.server.client(u) for u in ("delegate002", "delegate003")}
        for other in others.values():
            await other.join(m)

        # attendance and the roster
        await self.by(delegate, "attendance.check_in", {"meeting_id": m})
        await self.by(chair, "attendance.check_in", {"meeting_id": m})
        for user, attendance in (
            ("delegate002", "present"),
            ("delegate003", "present"),
            ("delegate004", "present"),
            ("delegate005", "excused"),
        ):
            await self.by(
                chair,
                "attendance.record",
                {"meeting_id": m, "user_id": self.ids[user], "attendance": attendance},
            )
        await self.rest("DELETE", f"/api/meetings/{m}/participants/{self.ids['delegate006']}")
        await self.rest(
            "POST", f"/api/meetings/{m}/participants", json={"user_id": self.ids["delegate006"]}
        )
        await self.rest("PATCH", f"/api/meetings/{m}", json={"location": "Hội trường B"})
        extra = await self.rest("POST", f"/api/meetings/{m}/agenda", json={"title": "Việc khác"})

        # the sitting, the agenda, the speakers
        await self.by(chair, "meeting.open", {"meeting_id": m})
        await self.by(chair, "agenda.set_current", {"meeting_id": m, "item_id": items[0]})
        await self.by(chair, "agenda.set_current", {"meeting_id": m, "item_id": items[1]})
        first = await self.by(delegate, "speakers.request", {"meeting_id": m, "item_id": items[1]})
        second = await self.by(
            chair,
            "speakers.add",
            {"meeting_id": m, "item_id": items[1], "user_id": self.ids["delegate002"]},
        )
        await self.by(
            chair,
            "speakers.reorder",
            {
                "meeting_id": m,
                "item_id": items[1],
                "speaker_ids": [second["speaker_id"], first["speaker_id"]],
            },
        )
        await self.by(
            chair, "speakers.start", {"speaker_id": second["speaker_id"], "time_limit_s": 180}
        )
        await self.by(chair, "speakers.stop", {"speaker_id": second["speaker_id"]})
        await self.by(delegate, "speakers.withdraw", {"speaker_id": first["speaker_id"]})
        await self.by(delegate, "speakers.request", {"meeting_id": m, "item_id": int(extra["id"])})

        # documents
        report = await self.upload("To trinh", agenda_item_id=str(items[1]))
        await self.annotate(int(report["current_version"]["id"]))
        await self.rest(
            "POST",
            f"/api/documents/{report['id']}/versions",
            params={"note": "ban sua", "filename": "to-trinh-2.pdf"},
            data=pdf("To trinh v2"),
            headers={"content-type": "application/pdf"},
        )
        await self.settle_annotations()  # the new version carried the notes
        await self.rest("PATCH", f"/api/documents/{report['id']}", json={"title": "Tờ trình số 1"})
        secret = await self.upload(
            "Mat", visibility="restricted", allowed_user_ids=str(self.ids["delegate001"])
        )
        await self.refetch_documents()
        await self.rest("PATCH", f"/api/documents/{secret['id']}", json={"visibility": "public"})
        await self.rest("DELETE", f"/api/documents/{secret['id']}")

        # polls: published, closed unpublished (secret), cancelled after a ballot, draft
        p1 = await self.by(
            chair,
            "poll.create",
            {"meeting_id": m, "title": "Thông qua nghị quyết", "agenda_item_id": items[1]},
        )
        await self.by(chair, "poll.open", {"poll_id": p1["poll_id"]})
        await self.by(delegate, "ballot.cast", {"poll_id": p1["poll_id"], "choice": "yes"})
        await others["delegate002"].command(
            "ballot.cast", {"poll_id": p1["poll_id"], "choice": "no"}
        )
        await self.by(chair, "ballot.cast", {"poll_id": p1["poll_id"], "choice": "yes"})
        await self.by(chair, "poll.close", {"poll_id": p1["poll_id"]})
        await self.fetch_poll(p1["poll_id"])
        await self.by(chair, "poll.publish", {"poll_id": p1["poll_id"]})

        p2 = await self.by(
            chair, "poll.create", {"meeting_id": m, "title": "Bỏ phiếu kín", "secret": True}
        )
        await self.by(chair, "poll.open", {"poll_id": p2["poll_id"]})
        await self.by(
            delegate,
            "ballot.cast",
            {"poll_id": p2["poll_id"], "choice": "no", "receipt_seed": "fixture-seed-0001"},
        )
        await others["delegate003"].command(
            "ballot.cast",
            {"poll_id": p2["poll_id"], "choice": "yes", "receipt_seed": "fixture-seed-0002"},
        )
        await self.by(chair, "poll.close", {"poll_id": p2["poll_id"]})
        await self.fetch_poll(p2["poll_id"])

        p3 = await self.by(chair, "poll.create", {"meeting_id": m, "title": "Hủy bỏ"})
        await self.by(chair, "poll.open", {"poll_id": p3["poll_id"]})
        await self.by(delegate, "ballot.cast", {"poll_id": p3["poll_id"], "choice": "abstain"})
        await self.by(chair, "poll.cancel", {"poll_id": p3["poll_id"], "reason": "Nhầm nội dung"})

        await self.by(
            chair,
            "poll.create",
            {
                "meeting_id": m,
                "kind": "election",
                "title": "Bầu thư ký",
                "candidates": ["Nguyễn Văn A", "Trần Thị B"],
            },
        )
        p5 = await self.by(chair, "poll.create", {"meeting_id": m, "title": "Bỏ"})
        await self.by(chair, "poll.cancel", {"poll_id": p5["poll_id"], "reason": "Trùng"})
        await self.by(chair, "agenda.set_current", {"meeting_id": m, "item_id": items[2]})
        await self.by(chair, "meeting.close", {"meeting_id": m})


def comparable(snap: dict[str, Any]) -> dict[str, Any]:
    """The core fields Python's reducer owns; participants by id (SQL and Python sort names
    with different collations)."""
    out = {k: copy.deepcopy(snap[k]) for k in CORE if k in snap}
    if "participants" in out:
        out["participants"] = sorted(out["participants"], key=lambda p: p["user_id"])
    return out


def python_replay(before: dict[str, Any], steps: list[dict[str, Any]]) -> dict[str, Any]:
    """Python's `apply_event` over a viewer's events, with the acks of its own poll and ballot
    commands and the web app's refetches (documents, a poll)."""
    snap = copy.deepcopy(before)
    for step in steps:
        if "event" in step:
            snap = apply_event(snap, step["event"])
        elif "documents" in step:  # the list's offline lease is not the meeting's state
            snap["documents"] = [
                {k: v for k, v in d.items() if k != "offline_expires_at"} for d in step["documents"]
            ]
        elif "poll" in step:
            snap = apply_poll(snap, step["poll"])
        elif step["ack"]["command"] == "ballot.cast":
            snap = apply_ballot_ack(snap, step["ack"]["ack"])
        elif "poll" in step["ack"]["ack"]:
            snap = apply_poll(snap, step["ack"]["ack"]["poll"])
    return snap


async def sync_annotations(client: QuorumClient) -> dict[str, Any]:
    """The caller's whole annotation store from a fresh `annotation.sync` (every page)."""
    since, annotations = 0, []
    while True:
        page = await client.call("annotation.sync", {"since": since})
        annotations += page["annotations"]
        since = page["cursor"]
        if not page["more"]:
            return {"annotations": annotations, "cursor": since}


def user_cursor(client: QuorumClient) -> int:
    """The highest annotation cursor among the user events a device got."""
    return max((int(e["data"]["cursor"]) for e in client.user_events), default=0)


def annotations_replay(annotations: dict[str, Any]) -> dict[str, Any]:
    """Python's `apply_user_event` over the user events, from the sync before."""
    before = annotations["before"]
    store = annotation_store(before["annotations"], before["cursor"])
    for event in annotations["user_events"]:
        store = apply_user_event(store, event)
    return store


def clock_times(data: Any) -> Any:
    """Every ISO time mapped, in order, onto a fixed clock (the n-th distinct time → +n s)."""
    seen: set[str] = set()

    def collect(value: Any) -> None:
        if isinstance(value, str) and ISO.match(value):
            seen.add(value)
        elif isinstance(value, dict):
            for v in value.values():
                collect(v)
        elif isinstance(value, list):
            for v in value:
                collect(v)

    collect(data)
    order = sorted(seen, key=lambda s: datetime.fromisoformat(s.replace("Z", "+00:00")))
    mapped = {
        s: (CLOCK + timedelta(seconds=n)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        for n, s in enumerate(order)
    }
    return _map_strings(data, lambda s: mapped.get(s, s))


def mask_times(data: Any) -> Any:
    return _map_strings(data, lambda s: "<time>" if ISO.match(s) else s)


def _map_strings(data: Any, fn: Any) -> Any:
    if isinstance(data, str):
        return fn(data)
    if isinstance(data, dict):
        return {k: _map_strings(v, fn) for k, v in data.items()}
    if isinstance(data, list):
        return [_map_strings(v, fn) for v in data]
    return data


async def record(folder: Path) -> dict[str, Any]:
    """Run the scripted sitting on a fresh server; the fixture (times as the server sent them)."""
    url = f"sqlite+aiosqlite:///{folder / 'quorum.sqlite3'}"
    seeded = await _seed(url, folder)
    app = create_asgi_app(server_settings(url, folder))
    uv, task, port = await start_uvicorn(app)
    session = http_session()
    server = Running(
        f"http://127.0.0.1:{port}",
        app.quorum_services.settings,
        app.quorum_services,
        seeded["council_id"],
        seeded["meeting_id"],
        "sqlite",
        session,
    )
    try:
        chair = Viewer("chair", await server.client("chair"))
        delegate = Viewer("delegate001", await server.client("delegate001"))
        synced = {}
        for viewer in (chair, delegate):
            viewer.before = copy.deepcopy((await viewer.client.join(server.meeting_id)).snapshot)
            synced[viewer.name] = await sync_annotations(viewer.client)
        sitting = Sitting(server, chair, delegate)
        await sitting.run()
        await sitting.settle()
        await sitting.settle_annotations()
        out: dict[str, Any] = {}
        for viewer in (chair, delegate):
            fresh = await viewer.client.call("meeting.join", {"meeting_id": server.meeting_id})
            viewer.after = fresh["snapshot"]
            # presence is a volatile update, not state the reducer owns: its version and
            # device counts depend on when each worker's 0.5 s flush ran, so it would make
            # the recording differ run to run
            for snapshot in (viewer.before, viewer.after):
                snapshot.pop("presence", None)
            out[viewer.name] = {
                "before": viewer.before,
                "steps": viewer.steps,
                "after": viewer.after,
                "python_after": comparable(python_replay(viewer.before, viewer.steps)),
                "annotations": {
                    "before": synced[viewer.name],
                    "user_events": viewer.client.user_events,
                    "after": await sync_annotations(viewer.client),
                },
            }
        return out
    finally:
        await server.close()
        uv.should_exit = True
        await task
        await app.quorum_services.db.dispose()


def disagreements(viewers: dict[str, Any]) -> list[str]:
    """Where Python's apply_event (over the recorded steps) differs from the fresh snapshot."""
    problems = []
    for name, viewer in viewers.items():
        fresh = comparable(viewer["after"])
        for key in CORE:
            if viewer["python_after"].get(key) != fresh.get(key):
                problems.append(f"{name}: {key}")
        after = viewer["annotations"]["after"]
        if annotations_replay(viewer["annotations"]) != annotation_store(
            after["annotations"], after["cursor"]
        ):
            problems.append(f"{name}: annotations")
    return problems


def build(viewers: dict[str, Any]) -> dict[str, Any]:
    return {
        "about": (
            "Recorded by `uv run python -m tests.support.reducer_fixture` from a real server: "
            "per viewer, the join snapshot before, the steps the client saw (event, ack of its "
            "own poll/ballot commands, documents refetched, poll refetched), and a fresh "
            "snapshot after; its annotations: a sync before, the user events, a sync after. "
            "Times are mapped onto a fixed clock. Do not edit by hand."
        ),
        "viewers": clock_times(viewers),
    }


async def generate() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="quorum-fixture-") as tmp:
        viewers = await record(Path(tmp))
    problems = disagreements(viewers)
    if problems:
        raise AssertionError(f"apply_event disagrees with a fresh snapshot: {problems}")
    return build(viewers)


def dump(fixture: dict[str, Any]) -> str:
    return json.dumps(fixture, ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def main() -> int:
    fixture = asyncio.run(generate())
    FIXTURE.parent.mkdir(parents=True, exist_ok=True)
    FIXTURE.write_text(dump(fixture), encoding="utf-8")
    steps = {k: len(v["steps"]) for k, v in fixture["viewers"].items()}
    print(f"wrote {FIXTURE.relative_to(ROOT)} ({steps}); password {PASSWORD!r} seed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
