"""The demo operation seeded into an empty embedded database."""
