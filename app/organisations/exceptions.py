"""Organisation errors.

Tree::

    NotFound -> OrganisationNotFound     organisation.not_found
    Conflict -> OrganisationNameTaken    organisation.name_taken
"""

from app.core.errors import Conflict, NotFound


class OrganisationNotFound(NotFound):
    code, title = "organisation.not_found", "Organisation not found"


class OrganisationNameTaken(Conflict):
    code, title = "organisation.name_taken", "Organisation name already registered"
