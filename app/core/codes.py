"""Controlled vocabularies shared by every domain: countries and WCO regions.

Codes are language-neutral and validated against real code lists (ISO 3166-1 via pycountry),
so an organisation cannot be registered in a country that does not exist.
"""

from enum import StrEnum
from typing import Annotated

import pycountry
from pydantic import AfterValidator


class Region(StrEnum):
    """The six WCO regions."""

    AMS = "AMS"  # Americas & Caribbean
    EUR = "EUR"  # Europe
    AP = "A/P"  # Asia/Pacific
    MENA = "MENA"  # North Africa, Near & Middle East
    WCA = "WCA"  # West & Central Africa
    ESA = "ESA"  # East & Southern Africa


def _is_country(code: str) -> str:
    """Accept an ISO 3166-1 alpha-2 code in any case and store it upper-case."""
    upper = code.upper()
    if len(upper) != 2 or pycountry.countries.get(alpha_2=upper) is None:
        raise ValueError(f"{code!r} is not an ISO 3166-1 alpha-2 country code")
    return upper


CountryCode = Annotated[str, AfterValidator(_is_country)]
