"""Thin python-telegram-bot adapters around the core in ``bot/``.

Each module translates Telegram updates into :class:`bot.conversation.messages.Incoming`
and the core's :class:`~bot.conversation.messages.Reply` back into Telegram messages;
no decision about what to answer is taken here.
"""
