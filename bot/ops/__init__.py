"""Operations: what the IT person running the bot needs (backups, the running lock, the doctor)."""
