"""The conversation: what the bot says back to each thing a prospect sends."""
