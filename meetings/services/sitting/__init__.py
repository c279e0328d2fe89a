"""The sitting: meetings and attendance, the agenda, the speakers list, and the state a client
joins with (docs/features/sitting.md)."""
