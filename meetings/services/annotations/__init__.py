"""Annotations: sync, the group-committed writer, carrying to new versions, exports."""
