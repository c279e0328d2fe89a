"""Socket.IO commands of each feature: wire name → payload model → service call.

`ALL` is the table `realtime.namespace` dispatches on (docs/PROTOCOL.md, "Commands").
"""

# no `from __future__ import annotations` here: it would bind the name `annotations` in this
# package and hide the `annotations` submodule
from realtime.commands import annotations as annotation_commands
from realtime.commands import sitting, voting
from realtime.protocol import SocketCommand

ALL: list[SocketCommand] = [*sitting.COMMANDS, *voting.COMMANDS, *annotation_commands.COMMANDS]
