"""Device errors.

Tree::

    NotFound -> DeviceNotFound       device.not_found
    Conflict -> DeviceKeyTaken       device.key_taken
    Conflict -> DeviceRevoked        device.revoked
"""

from app.core.errors import Conflict, NotFound


class DeviceNotFound(NotFound):
    code, title = "device.not_found", "Device not found"


class DeviceKeyTaken(Conflict):
    code, title = "device.key_taken", "That signing key is already registered"


class DeviceRevoked(Conflict):
    code, title = "device.revoked", "The device is revoked"
