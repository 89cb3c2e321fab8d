"""Reusable view parts shared by the role modules."""
