"""Library errors.

Tree::

    NotFound     -> DocumentNotFound         library.document_not_found
    NotFound     -> VersionNotFound          library.version_not_found
    NotFound     -> UploadNotFound           library.upload_not_found (also: expired, not yours)
    Conflict     -> VersionConflict          library.version_conflict
    Conflict     -> SegmentConflict          library.segment_conflict
    Conflict     -> UploadIncomplete         library.upload_incomplete
    Conflict     -> DocumentWithdrawn        library.withdrawn (publishing on a withdrawn document)
    CordonError  -> DocumentGone (410)       library.withdrawn (downloading a withdrawn document)
    InvalidInput -> InvalidUpload            library.invalid_upload
    InvalidInput -> SegmentOutOfRange        library.segment_out_of_range
    InvalidInput -> SegmentSizeMismatch      library.segment_size
    InvalidInput -> HashMismatch             library.hash_mismatch
    InvalidInput -> InvalidManifest          library.invalid_manifest
    InvalidInput -> CategoryMismatch         library.category_mismatch
    Forbidden    -> KeyingNotAllowed         library.keying_not_allowed
    Forbidden    -> HistoryNotGranted        library.history_not_granted
    TooLarge     -> DocumentTooLarge         library.document_too_large
    TooLarge     -> SegmentTooLarge          library.segment_too_large
    TooLarge     -> QuotaExceeded            library.quota_exceeded
    CordonError  -> RangeNotSatisfiable (416) library.range_not_satisfiable
"""

from app.core.errors import (
    Conflict,
    CordonError,
    Forbidden,
    InvalidInput,
    NotFound,
    TooLarge,
)


class DocumentNotFound(NotFound):
    code, title = "library.document_not_found", "Document not found"


class VersionNotFound(NotFound):
    code, title = "library.version_not_found", "Document version not found"


class UploadNotFound(NotFound):
    code, title = "library.upload_not_found", "Upload not found or expired"


class VersionConflict(Conflict):
    code, title = "library.version_conflict", "That version is already published or not next"


class SegmentConflict(Conflict):
    code, title = "library.segment_conflict", "A different segment was already stored there"


class UploadIncomplete(Conflict):
    code, title = "library.upload_incomplete", "Segments are missing"


class DocumentWithdrawn(Conflict):
    code, title = "library.withdrawn", "The document has been withdrawn"


class DocumentGone(CordonError):
    status, code, title = 410, "library.withdrawn", "The document has been withdrawn"


class InvalidUpload(InvalidInput):
    code, title = "library.invalid_upload", "The upload description is inconsistent"


class SegmentOutOfRange(InvalidInput):
    code, title = "library.segment_out_of_range", "No such segment in this upload"


class SegmentSizeMismatch(InvalidInput):
    code, title = "library.segment_size", "The segment does not have the declared size"


class HashMismatch(InvalidInput):
    code, title = "library.hash_mismatch", "The stored ciphertext does not match its hash"


class DocumentTooLarge(TooLarge):
    code, title = "library.document_too_large", "The document exceeds the size limit"


class SegmentTooLarge(TooLarge):
    code, title = "library.segment_too_large", "The segment exceeds the segment size"


class QuotaExceeded(TooLarge):
    code, title = "library.quota_exceeded", "The group's library quota would be exceeded"


class RangeNotSatisfiable(CordonError):
    status, code, title = 416, "library.range_not_satisfiable", "Range not satisfiable"


class BlobUnavailable(CordonError):
    status, code, title = 503, "library.blob_unavailable", "The document's content is missing"


class InvalidManifest(InvalidInput):
    code, title = "library.invalid_manifest", "The manifest is malformed or not signed by you"


class CategoryMismatch(InvalidInput):
    code, title = "library.category_mismatch", "The category differs from the signed manifest"


class KeyingNotAllowed(Forbidden):
    code, title = "library.keying_not_allowed", "Only coordinators key documents or grant history"


class HistoryNotGranted(Forbidden):
    code, title = "library.history_not_granted", "The log grants you no history of this scope"
