"""Versioned message templates (package data beside this module) and their registry."""
