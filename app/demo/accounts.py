"""The demo's fixed credentials, apart from the seeding code so that `cordon-server demo-totp`
can print a code without importing the database layer."""

DEMO_PASSWORD = "cordon-demo-password"
DEMO_TOTP_SEED = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
DEMO_GROUP = "Operation STOP III (demo)"
DEMO_TOTP_USERNAMES = ("admin", "ocu.coordinator")  # seeded with TOTP; `demo-totp` names them
