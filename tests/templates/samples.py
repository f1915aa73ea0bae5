"""Valid sample content for the built-in templates, to be varied by each test."""

import copy
from typing import Any

SIMPLE_CASE: dict[str, Any] = {
    "reporting_country": "BE",
    "handling_code": "H1",
    "source_reliability": "B",
    "information_accuracy": 2,
    "reports": [
        {
            "seizure_date": "2021-05-04",
            "place_type": "airport",
            "direction": "import",
            "departure_country": "IN",
            "destination_country": "BE",
            "transport": {"mode": "air"},
            "items": [
                {"category": "medicines", "hs_code": "3004", "quantity": 1200, "unit": "PCE"}
            ],
        }
    ],
}

FULL_CASE: dict[str, Any] = {
    **copy.deepcopy(SIMPLE_CASE),
    "case_id": "BE-2021-0001",
    "operation": "STOP II",
    "outcome": {"status": "seized", "investigation_opened": True, "arrests": 1},
    "persons": {"number_of_persons": 1, "nationalities": ["BE"]},
}
FULL_CASE["reports"][0] |= {
    "detection": {"method": "xray_nii"},
    "transport": {
        "mode": "air",
        "flight_voyage": "AI127",
        "document_type": "AWB",
        "document_number": "098-12345675",
    },
}
FULL_CASE["reports"][0]["items"][0]["description"] = "Falsified hydroxychloroquine tablets"

PRENOTIFICATION: dict[str, Any] = {
    "notification_id": "0b5a3f0e-43f7-4c6b-9d3a-0b7c2f1f9f10",
    "sender_country": "BE",
    "destination_country": "GH",
    "transit_countries": ["NL"],
    "handling_code": "H2",
    "source_reliability": "A",
    "information_accuracy": 1,
    "product": {
        "trade_name": "Comirnaty",
        "vaccine_type": "tozinameran",
        "manufacturer": "BioNTech",
        "hs_code": "3002.41",
        "doses": 117000,
    },
    "lots": [
        {"lot_number": "FF1234", "quantity": 58500, "expiry_date": "2022-01-31"},
        {"lot_number": "FF1235", "quantity": 58500, "expiry_date": "2022-02-28"},
    ],
    "cold_chain": {
        "temperature_min_c": -90,
        "temperature_max_c": -60,
        "iata_handling_code": "FRO",
        "dry_ice_kg": 45.5,
    },
    "transport": {
        "mode": "air",
        "flight_voyage": "SN285",
        "awb_master": "082-11111111",
        "etd": "2021-06-01T08:00:00Z",
        "eta": "2021-06-01T15:30:00Z",
    },
    "parties": {
        "exporter": "Pfizer Manufacturing Belgium",
        "consignee": "Ghana Health Service",
        "programme": "COVAX",
    },
    "contacts": {"emergency_phone": "+32 2 123 45 67"},
}


def case(full: bool = False) -> dict[str, Any]:
    """A fresh copy of a valid case."""
    return copy.deepcopy(FULL_CASE if full else SIMPLE_CASE)


def prenotification() -> dict[str, Any]:
    """A fresh copy of a valid pre-notification."""
    return copy.deepcopy(PRENOTIFICATION)
