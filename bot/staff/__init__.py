"""The staff side: lead notifications, handoff to a person, staff tools."""
