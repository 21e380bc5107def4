"""Finding which knowledge entry a prospect's question is about (or that none is)."""
