"""This device's account: HTTP transport with problem-code errors, login, local state."""
