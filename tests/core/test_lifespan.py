"""What the app's lifespan does besides starting the fan-out."""

import gc

from app.core.config import Settings
from tests.conftest import serving


async def test_the_startup_heap_is_hidden_from_the_cyclic_collector(settings: Settings) -> None:
    """Full collections over the startup heap stalled every socket for 40–100 ms; once
    started, that heap sits in the permanent generation."""
    gc.unfreeze()  # whatever an earlier app of this test process froze
    assert gc.get_freeze_count() == 0
    async with serving(settings):
        frozen = gc.get_freeze_count()
    assert frozen > 10_000  # the imported framework, routes and mappers, not a handful
