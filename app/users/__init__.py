"""Officers of member administrations, and how they enrol."""
