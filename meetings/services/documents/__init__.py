"""Agenda documents: upload and versions, page images, PDF checks, search."""
