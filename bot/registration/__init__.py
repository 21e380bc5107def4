"""The pre-registration form: what a prospect types, checked one field at a time."""
