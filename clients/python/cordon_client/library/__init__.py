"""The group's encrypted document library: publish, list, download."""
