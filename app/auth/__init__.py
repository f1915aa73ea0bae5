"""Login, bearer tokens bound to devices, TOTP and throttling."""
