"""Errors of the template registry. Tree::

CordonError
 +-- NotFound (404)
 |    +-- TemplateNotFound         template.not_found
 +-- Conflict (409)
 |    +-- TemplateVersionExists    template.version_exists
 |    +-- TemplateVersionNotNewer  template.version_not_newer
 +-- InvalidInput (422)
      +-- InvalidSignedTemplate    template.invalid
      +-- UnknownTemplateVersion   template.unknown_version
"""

from app.core.errors import Conflict, InvalidInput, NotFound


class TemplateNotFound(NotFound):
    code, title = "template.not_found", "Template version not found"


class TemplateVersionExists(Conflict):
    code, title = "template.version_exists", "This template version already exists"


class TemplateVersionNotNewer(Conflict):
    code, title = "template.version_not_newer", "A newer version of this template exists"


class InvalidSignedTemplate(InvalidInput):
    code, title = "template.invalid", "Invalid signed template document"


class UnknownTemplateVersion(InvalidInput):
    code, title = "template.unknown_version", "Unknown template version"
