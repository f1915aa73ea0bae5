"""Closed user groups for operations, their members and roles."""
