"""The conversation's input and output types, now in :mod:`bot.messages`.

They moved below the storage layer (the outbox and the handled-updates log store
replies) so that storage does not import the conversation; this name stays so that
existing imports keep working.
"""
from bot.messages import Button, Incoming, Kind, Person, Reply

__all__ = ["Button", "Incoming", "Kind", "Person", "Reply"]
