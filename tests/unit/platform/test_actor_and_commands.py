"""Who may do what (the Actor's checks) and the command models' bounds, without I/O."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from meetings.domain.errors import Forbidden
from meetings.domain.model import Role
from meetings.services import commands as c
from meetings.services.context import Actor

COUNCIL = 1


def actor(role: Role | None = None, *, admin: bool = False) -> Actor:
    roles = {COUNCIL: role} if role is not None else {}
    return Actor(1, "u", "U", is_admin=admin, roles=roles)


@pytest.mark.parametrize(
    ("who", "secretary", "staff", "chair"),
    [
        (actor(admin=True), True, True, True),
        (actor(Role.secretary), True, True, False),
        (actor(Role.chair), False, True, True),
        (actor(Role.delegate), False, False, False),
        (actor(Role.display), False, False, False),
        (actor(), False, False, False),
    ],
)
def test_requirements(who: Actor, secretary: bool, staff: bool, chair: bool) -> None:
    for check, allowed in (
        (who.require_secretary, secretary),
        (who.require_staff, staff),
        (who.require_chair, chair),
    ):
        if allowed:
            check(COUNCIL)
        else:
            with pytest.raises(Forbidden):
                check(COUNCIL)
    # a role in one council gives nothing in another
    if not who.is_admin:
        with pytest.raises(Forbidden):
            who.require_staff(COUNCIL + 1)


def test_commands_refuse_unknown_fields_and_out_of_range_ids() -> None:
    with pytest.raises(ValidationError):
        c.CreateItem.model_validate({"title": "x", "colour": "red"})
    with pytest.raises(ValidationError):
        c.AddParticipant.model_validate({"user_id": 2**31})
    with pytest.raises(ValidationError):
        c.AddParticipant.model_validate({"user_id": 0})
    with pytest.raises(ValidationError):
        c.CreateItem.model_validate({"title": "   "})
    assert c.CreateItem.model_validate({"title": "  Tờ trình  "}).title == "Tờ trình"
    with pytest.raises(ValidationError):
        c.MeetingAction.model_validate({"action": "explode"})
