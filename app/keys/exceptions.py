"""Key directory and membership log errors.

Tree::

    InvalidInput -> MalformedKeyMaterial   keys.malformed
    Conflict     -> LogOutOfOrder          keys.log_out_of_order
    Conflict     -> PrekeyExists           keys.prekey_exists
    Conflict     -> MemberKeyExists        keys.member_key_exists
    Conflict     -> OneTimePrekeysFull     keys.one_time_prekeys_full
    Forbidden    -> LogEntryNotAllowed     keys.log_entry_not_allowed
"""

from app.core.errors import Conflict, Forbidden, InvalidInput


class MalformedKeyMaterial(InvalidInput):
    code, title = "keys.malformed", "Malformed or badly signed key material"


class LogOutOfOrder(Conflict):
    code, title = "keys.log_out_of_order", "The entry does not extend the log's current head"


class PrekeyExists(Conflict):
    code, title = "keys.prekey_exists", "That prekey id is already used by this device"


class LogEntryNotAllowed(Forbidden):
    code, title = "keys.log_entry_not_allowed", "You may not append that entry"


class MemberKeyExists(Conflict):
    code, title = "keys.member_key_exists", "A different member key is already published"


class OneTimePrekeysFull(Conflict):
    code, title = "keys.one_time_prekeys_full", "The device already stores its maximum of prekeys"
