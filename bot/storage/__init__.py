"""SQLite storage (through sqlite-utils): everything that must survive a restart."""
