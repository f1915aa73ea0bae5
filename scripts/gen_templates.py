"""Generate the client's built-in templates and vocabularies (package data) once.

Run `python scripts/gen_templates.py` after editing the field tables below; the JSON files it
writes under `clients/python/cordon_client/templates/` are checked in, so the client needs
neither this script nor pycountry at run time. Country names come from pycountry (ISO 3166-1
with its French and Spanish translations); everything else is curated here.
"""

import gettext
import json
from pathlib import Path
from typing import Any

import pycountry

OUT = Path(__file__).resolve().parents[1] / "clients/python/cordon_client/templates"
VOCAB = "urn:cordon:vocab:"
SCHEMA = "https://json-schema.org/draft/2020-12/schema"
Labels = tuple[str, str, str]


def ref(name: str) -> dict[str, str]:
    return {"$ref": VOCAB + name}


def countries() -> list[dict[str, Any]]:
    fr = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["fr"])
    es = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["es"])
    return [
        {"code": c.alpha_2, "en": c.name, "fr": fr.gettext(c.name), "es": es.gettext(c.name)}
        for c in sorted(pycountry.countries, key=lambda c: c.alpha_2)
    ]


def coded(*rows: tuple[str, str, str, str]) -> list[dict[str, str]]:
    return [{"code": c, "en": en, "fr": fr, "es": es} for c, en, fr, es in rows]


VOCABULARIES: dict[str, list[dict[str, Any]]] = {
    "regions": coded(
        ("AMS", "Americas and Caribbean", "Amériques et Caraïbes", "Américas y Caribe"),
        ("EUR", "Europe", "Europe", "Europa"),
        ("A/P", "Asia/Pacific", "Asie/Pacifique", "Asia/Pacífico"),
        (
            "MENA",
            "North Africa, Near and Middle East",
            "Afrique du Nord, Proche et Moyen-Orient",
            "Norte de África, Oriente Próximo y Medio",
        ),
        (
            "WCA",
            "West and Central Africa",
            "Afrique occidentale et centrale",
            "África Occidental y Central",
        ),
        (
            "ESA",
            "East and Southern Africa",
            "Afrique orientale et australe",
            "África Oriental y Austral",
        ),
    ),
    # Curated, not the whole HS 2022 nomenclature: the headings seen in medical-goods operations.
    "hs_codes": coded(
        (
            "3002.41",
            "Vaccines for human medicine",
            "Vaccins pour la médecine humaine",
            "Vacunas para medicina humana",
        ),
        (
            "3002.42",
            "Vaccines for veterinary medicine",
            "Vaccins pour la médecine vétérinaire",
            "Vacunas para medicina veterinaria",
        ),
        (
            "3002.49",
            "Other vaccines, toxins, cultures",
            "Autres vaccins, toxines, cultures",
            "Otras vacunas, toxinas, cultivos",
        ),
        (
            "3002.90",
            "Other blood fractions and products",
            "Autres fractions et produits du sang",
            "Otras fracciones y productos de la sangre",
        ),
        (
            "3003",
            "Medicaments, not in measured doses",
            "Médicaments, non dosés",
            "Medicamentos, sin dosificar",
        ),
        ("3004", "Medicaments in measured doses", "Médicaments dosés", "Medicamentos dosificados"),
        ("3005", "Wadding, gauze, bandages", "Ouates, gazes, bandes", "Guatas, gasas, vendas"),
        (
            "3006",
            "Pharmaceutical goods (note 4 to chapter 30)",
            "Préparations pharmaceutiques",
            "Preparaciones farmacéuticas",
        ),
        (
            "3822",
            "Diagnostic or laboratory reagents, test kits",
            "Réactifs de diagnostic ou de laboratoire, kits de test",
            "Reactivos de diagnóstico o de laboratorio, kits de prueba",
        ),
        (
            "3926.20",
            "Plastic gloves and apparel",
            "Gants et vêtements en plastique",
            "Guantes y prendas de plástico",
        ),
        (
            "4015",
            "Rubber gloves and apparel",
            "Gants et vêtements en caoutchouc",
            "Guantes y prendas de caucho",
        ),
        (
            "6210.10",
            "Protective garments of nonwovens",
            "Vêtements de protection en non-tissés",
            "Prendas de protección de tela sin tejer",
        ),
        (
            "6307.90",
            "Face masks and other made-up textile articles",
            "Masques et autres articles textiles confectionnés",
            "Mascarillas y otros artículos textiles confeccionados",
        ),
        ("9004.90", "Protective goggles", "Lunettes de protection", "Gafas de protección"),
        (
            "9018",
            "Medical, surgical and dental instruments",
            "Instruments médicaux, chirurgicaux et dentaires",
            "Instrumentos médicos, quirúrgicos y dentales",
        ),
        (
            "9019",
            "Therapy and respiration apparatus, ventilators",
            "Appareils de thérapie et de respiration, respirateurs",
            "Aparatos de terapia y respiración, respiradores",
        ),
        (
            "9020",
            "Breathing appliances and gas masks",
            "Appareils respiratoires et masques à gaz",
            "Aparatos respiratorios y máscaras antigás",
        ),
        ("9021", "Orthopaedic appliances", "Appareils d'orthopédie", "Aparatos de ortopedia"),
        (
            "9022",
            "X-ray and radiation apparatus",
            "Appareils à rayons X et à radiations",
            "Aparatos de rayos X y de radiaciones",
        ),
        ("9025.19", "Thermometers", "Thermomètres", "Termómetros"),
        (
            "9027.80",
            "Analysis instruments (e.g. test analysers)",
            "Instruments d'analyse (p. ex. analyseurs)",
            "Instrumentos de análisis",
        ),
    ),
    # UN/ECE Recommendation 20 codes for the units used in seizure reports.
    "units": coded(
        ("PCE", "pieces", "pièces", "piezas"),
        ("KGM", "kilograms", "kilogrammes", "kilogramos"),
        ("LTR", "litres", "litres", "litros"),
        ("DOS", "doses", "doses", "dosis"),
        ("BX", "boxes", "boîtes", "cajas"),
    ),
    "transport_modes": coded(
        ("air", "Air", "Aérien", "Aéreo"),
        ("sea", "Sea", "Maritime", "Marítimo"),
        ("road", "Road", "Routier", "Carretera"),
        ("rail", "Rail", "Ferroviaire", "Ferrocarril"),
        ("postal", "Postal", "Postal", "Postal"),
        ("express_courier", "Express courier", "Fret express", "Mensajería urgente"),
        ("passenger", "Passenger", "Passager", "Pasajero"),
    ),
    "iata_handling_codes": coded(
        ("PIL", "Pharmaceuticals", "Produits pharmaceutiques", "Productos farmacéuticos"),
        ("COL", "Cool goods", "Marchandises à garder au frais", "Mercancías refrigeradas"),
        ("FRO", "Frozen goods", "Marchandises congelées", "Mercancías congeladas"),
        (
            "CRT",
            "Controlled room temperature",
            "Température ambiante contrôlée",
            "Temperatura ambiente controlada",
        ),
        (
            "ERT",
            "Extended room temperature",
            "Température ambiante étendue",
            "Temperatura ambiente ampliada",
        ),
    ),
    "handling_codes": coded(
        (
            "H0",
            "Use in any proceedings",
            "Utilisable dans toute procédure",
            "Utilizable en cualquier procedimiento",
        ),
        (
            "H1",
            "No use in court without permission",
            "Pas d'usage judiciaire sans autorisation",
            "Sin uso judicial sin autorización",
        ),
        (
            "H2",
            "No dissemination without permission",
            "Pas de diffusion sans autorisation",
            "Sin difusión sin autorización",
        ),
        ("H3", "Other restrictions apply", "Autres restrictions", "Otras restricciones"),
    ),
    "source_reliability": coded(
        ("A", "Reliable", "Fiable", "Fiable"),
        ("B", "Mostly reliable", "Généralement fiable", "Generalmente fiable"),
        ("C", "Not reliable", "Peu fiable", "Poco fiable"),
        ("X", "Cannot be assessed", "Non évaluable", "No evaluable"),
    ),
    "information_accuracy": [
        {"code": 1, "en": "Known to be true", "fr": "Avéré", "es": "Comprobada"},
        {
            "code": 2,
            "en": "Known personally to the source",
            "fr": "Connue de la source",
            "es": "Conocida por la fuente",
        },
        {
            "code": 3,
            "en": "Not known personally, corroborated",
            "fr": "Corroborée",
            "es": "Corroborada",
        },
        {"code": 4, "en": "Cannot be judged", "fr": "Non évaluable", "es": "No evaluable"},
    ],
    "place_types": coded(
        ("airport", "Airport", "Aéroport", "Aeropuerto"),
        ("seaport", "Seaport", "Port maritime", "Puerto marítimo"),
        ("land_border", "Land border", "Frontière terrestre", "Frontera terrestre"),
        ("inland", "Inland", "Intérieur", "Interior"),
        ("postal_centre", "Postal centre", "Centre postal", "Centro postal"),
        ("express_hub", "Express hub", "Plateforme express", "Centro de mensajería"),
        ("free_trade_zone", "Free trade zone", "Zone franche", "Zona franca"),
        ("warehouse", "Warehouse", "Entrepôt", "Almacén"),
    ),
    "directions": coded(
        ("import", "Import", "Importation", "Importación"),
        ("export", "Export", "Exportation", "Exportación"),
        ("transit", "Transit", "Transit", "Tránsito"),
        ("transhipment", "Transhipment", "Transbordement", "Transbordo"),
    ),
    "goods_categories": coded(
        ("medicines", "Medicines", "Médicaments", "Medicamentos"),
        ("vaccines", "Vaccines", "Vaccins", "Vacunas"),
        ("medical_devices", "Medical devices", "Dispositifs médicaux", "Dispositivos médicos"),
        (
            "ppe",
            "Personal protective equipment",
            "Équipements de protection individuelle",
            "Equipos de protección individual",
        ),
        ("test_kits", "Test kits", "Kits de test", "Kits de prueba"),
        ("other", "Other", "Autre", "Otro"),
    ),
    "right_types": coded(
        ("trademark", "Trademark", "Marque", "Marca"),
        ("patent", "Patent", "Brevet", "Patente"),
        ("design", "Design", "Dessin ou modèle", "Diseño"),
    ),
    "infringements": coded(
        ("counterfeit", "Counterfeit", "Contrefaçon", "Falsificación de marca"),
        (
            "substandard_falsified",
            "Substandard or falsified",
            "De qualité inférieure ou falsifié",
            "Deficiente o falsificado",
        ),
        ("unauthorised", "Unauthorised", "Non autorisé", "No autorizado"),
        ("expired", "Expired", "Périmé", "Caducado"),
        ("smuggled", "Smuggled", "Contrebande", "Contrabando"),
        ("no_licence", "No licence", "Sans licence", "Sin licencia"),
    ),
    "detection_methods": coded(
        ("risk_profiling", "Risk profiling", "Profilage des risques", "Perfiles de riesgo"),
        ("intelligence", "Intelligence", "Renseignement", "Inteligencia"),
        ("routine_control", "Routine control", "Contrôle de routine", "Control rutinario"),
        (
            "xray_nii",
            "X-ray / NII",
            "Rayons X / inspection non intrusive",
            "Rayos X / inspección no intrusiva",
        ),
        ("canine", "Canine", "Équipe cynophile", "Unidad canina"),
        ("other", "Other", "Autre", "Otro"),
    ),
    "outcomes": coded(
        ("seized", "Seized", "Saisi", "Incautado"),
        ("detained", "Detained", "Retenu", "Retenido"),
        ("destroyed", "Destroyed", "Détruit", "Destruido"),
        ("released", "Released", "Mainlevée", "Liberado"),
    ),
    "transport_documents": coded(
        ("AWB", "Air waybill", "Lettre de transport aérien", "Conocimiento aéreo"),
        ("BL", "Bill of lading", "Connaissement", "Conocimiento de embarque"),
        ("CMR", "CMR consignment note", "Lettre de voiture CMR", "Carta de porte CMR"),
        ("other", "Other", "Autre", "Otro"),
    ),
    "programmes": coded(
        ("COVAX", "COVAX", "COVAX", "COVAX"),
        ("donation", "Donation", "Don", "Donación"),
        ("purchase", "Purchase", "Achat", "Compra"),
        ("other", "Other", "Autre", "Otro"),
    ),
    "shipping_documents": coded(
        ("invoice", "Invoice", "Facture", "Factura"),
        ("packing_list", "Packing list", "Liste de colisage", "Lista de empaque"),
        (
            "lot_release_certificate",
            "Lot-release certificate",
            "Certificat de libération de lot",
            "Certificado de liberación de lote",
        ),
        (
            "export_declaration",
            "Export declaration",
            "Déclaration d'exportation",
            "Declaración de exportación",
        ),
        ("import_permit", "Import permit", "Permis d'importation", "Permiso de importación"),
    ),
}

TEXT = {"type": "string", "minLength": 1, "maxLength": 500}
SHORT = {"type": "string", "minLength": 1, "maxLength": 100}
DATE = {"type": "string", "format": "date"}
DATETIME = {"type": "string", "format": "date-time"}
COUNTRY = ref("countries")
COUNT = {"type": "integer", "minimum": 0}
POSITIVE = {"type": "number", "exclusiveMinimum": 0}


def many(item: dict[str, Any], min_items: int = 0) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "array", "items": item}
    if min_items:
        out["minItems"] = min_items
    return out


# A field: name -> (schema or nested block, required-in-simplified, in-full-required, labels)
Field = tuple[Any, bool, bool, Labels]
Block = dict[str, Field]

ITEM: Block = {
    "category": (ref("goods_categories"), True, True, ("Category", "Catégorie", "Categoría")),
    "description": (TEXT, False, True, ("Description", "Description", "Descripción")),
    "hs_code": (ref("hs_codes"), True, True, ("HS code", "Code SH", "Código SA")),
    "brand": (SHORT, False, False, ("Brand / product", "Marque / produit", "Marca / producto")),
    "inn": (SHORT, False, False, ("INN", "DCI", "DCI")),
    "dosage_form": (
        SHORT,
        False,
        False,
        ("Dosage form and strength", "Forme et dosage", "Forma y concentración"),
    ),
    "quantity": (POSITIVE, True, True, ("Quantity", "Quantité", "Cantidad")),
    "unit": (ref("units"), True, True, ("Unit", "Unité", "Unidad")),
    "value": ({"type": "number", "minimum": 0}, False, False, ("Value", "Valeur", "Valor")),
    "currency": (
        {"type": "string", "pattern": "^[A-Z]{3}$"},
        False,
        False,
        ("Currency (ISO 4217)", "Devise (ISO 4217)", "Moneda (ISO 4217)"),
    ),
    "batch": (SHORT, False, False, ("Batch / lot", "Lot", "Lote")),
    "expiry_date": (DATE, False, False, ("Expiry date", "Date de péremption", "Caducidad")),
}
TRANSPORT: Block = {
    "mode": (
        ref("transport_modes"),
        True,
        True,
        ("Transport mode", "Mode de transport", "Modo de transporte"),
    ),
    "flight_voyage": (SHORT, False, False, ("Flight / voyage", "Vol / voyage", "Vuelo / viaje")),
    "vehicle_plate": (
        SHORT,
        False,
        False,
        ("Vehicle plate", "Immatriculation", "Matrícula del vehículo"),
    ),
    "container": (SHORT, False, False, ("Container / ULD", "Conteneur / ULD", "Contenedor / ULD")),
    "document_type": (
        ref("transport_documents"),
        False,
        False,
        ("Transport document", "Document de transport", "Documento de transporte"),
    ),
    "document_number": (
        SHORT,
        False,
        False,
        ("Document number", "Numéro du document", "Número del documento"),
    ),
    "tracking_number": (
        SHORT,
        False,
        False,
        ("Tracking number", "Numéro de suivi", "Número de seguimiento"),
    ),
}
IPR: Block = {
    "right_holder": (SHORT, False, False, ("Right holder", "Titulaire du droit", "Titular")),
    "right_type": (
        ref("right_types"),
        False,
        False,
        ("Right type", "Type de droit", "Tipo de derecho"),
    ),
    "infringement": (
        ref("infringements"),
        False,
        False,
        ("Infringement", "Infraction", "Infracción"),
    ),
}
DETECTION: Block = {
    "method": (
        ref("detection_methods"),
        False,
        True,
        ("Detection method", "Méthode de détection", "Método de detección"),
    ),
    "concealment": (
        TEXT,
        False,
        False,
        ("Concealment method", "Mode de dissimulation", "Método de ocultación"),
    ),
}
REPORT: Block = {
    "report_id": (SHORT, False, False, ("Report id", "N° de rapport", "N.º de informe")),
    "seizure_date": (
        DATE,
        True,
        True,
        ("Seizure date", "Date de la saisie", "Fecha de la incautación"),
    ),
    "place_type": (ref("place_types"), True, True, ("Place type", "Type de lieu", "Tipo de lugar")),
    "office": (
        SHORT,
        False,
        False,
        ("Office / checkpoint", "Bureau / point de contrôle", "Oficina / puesto de control"),
    ),
    "locode": (
        {"type": "string", "pattern": "^[A-Z]{2}[A-Z2-9]{3}$"},
        False,
        False,
        ("UN/LOCODE", "UN/LOCODE", "UN/LOCODE"),
    ),
    "direction": (ref("directions"), True, True, ("Direction", "Sens", "Dirección")),
    "origin_country": (
        COUNTRY,
        False,
        False,
        ("Country of origin", "Pays d'origine", "País de origen"),
    ),
    "departure_country": (
        COUNTRY,
        True,
        True,
        ("Departure country", "Pays de départ", "País de salida"),
    ),
    "transit_countries": (
        many(COUNTRY),
        False,
        False,
        ("Transit countries", "Pays de transit", "Países de tránsito"),
    ),
    "destination_country": (
        COUNTRY,
        True,
        True,
        ("Destination country", "Pays de destination", "País de destino"),
    ),
    "transport": (TRANSPORT, True, True, ("Transport", "Transport", "Transporte")),
    "ipr": (IPR, False, False, ("IPR / health", "PI / santé", "PI / salud")),
    "detection": (DETECTION, False, True, ("Detection", "Détection", "Detección")),
    "items": ((ITEM, 1), True, True, ("Items", "Articles", "Artículos")),
}
PERSONS: Block = {
    "number_of_persons": (
        COUNT,
        False,
        False,
        ("Number of persons", "Nombre de personnes", "Número de personas"),
    ),
    "nationalities": (
        many(COUNTRY),
        False,
        False,
        ("Nationalities", "Nationalités", "Nacionalidades"),
    ),
    "roles": (many(SHORT), False, False, ("Roles", "Rôles", "Funciones")),
    "companies": (many(SHORT), False, False, ("Companies", "Sociétés", "Empresas")),
}
OUTCOME: Block = {
    "status": (ref("outcomes"), False, True, ("Outcome", "Suite donnée", "Resultado")),
    "investigation_opened": (
        {"type": "boolean"},
        False,
        False,
        ("Investigation opened", "Enquête ouverte", "Investigación abierta"),
    ),
    "arrests": (COUNT, False, False, ("Arrests", "Arrestations", "Detenciones")),
}
MARKINGS: Block = {
    "handling_code": (
        ref("handling_codes"),
        True,
        True,
        ("Handling code", "Code de traitement", "Código de tratamiento"),
    ),
    "source_reliability": (
        ref("source_reliability"),
        True,
        True,
        ("Source reliability", "Fiabilité de la source", "Fiabilidad de la fuente"),
    ),
    "information_accuracy": (
        ref("information_accuracy"),
        True,
        True,
        ("Information accuracy", "Exactitude de l'information", "Exactitud de la información"),
    ),
}
CASE: Block = {
    "case_id": (SHORT, False, False, ("Case id", "N° de cas", "N.º de caso")),
    "operation": (SHORT, False, False, ("Operation", "Opération", "Operación")),
    "reporting_country": (
        COUNTRY,
        True,
        True,
        ("Reporting country", "Pays déclarant", "País declarante"),
    ),
    **MARKINGS,
    "reports": (
        (REPORT, 1),
        True,
        True,
        ("Seizure reports", "Rapports de saisie", "Informes de incautación"),
    ),
    "persons": (
        PERSONS,
        False,
        False,
        ("Persons (restricted)", "Personnes (restreint)", "Personas (restringido)"),
    ),
    "outcome": (OUTCOME, False, True, ("Outcome", "Suite donnée", "Resultado")),
    "remarks": (
        {"type": "string", "maxLength": 5000},
        False,
        False,
        ("Remarks", "Observations", "Observaciones"),
    ),
}

LOT: Block = {
    "lot_number": (SHORT, True, True, ("Batch / lot number", "Numéro de lot", "Número de lote")),
    "quantity": (
        {"type": "integer", "minimum": 1},
        True,
        True,
        ("Quantity (doses)", "Quantité (doses)", "Cantidad (dosis)"),
    ),
    "expiry_date": (DATE, True, True, ("Expiry date", "Date de péremption", "Caducidad")),
}
PN_PRODUCT: Block = {
    "trade_name": (SHORT, True, True, ("Trade name", "Nom commercial", "Nombre comercial")),
    "vaccine_type": (
        SHORT,
        True,
        True,
        ("Vaccine type / INN", "Type de vaccin / DCI", "Tipo de vacuna / DCI"),
    ),
    "manufacturer": (SHORT, True, True, ("Manufacturer", "Fabricant", "Fabricante")),
    "authorisation_holder": (
        SHORT,
        False,
        False,
        ("Authorisation holder", "Titulaire de l'autorisation", "Titular de la autorización"),
    ),
    "country_of_manufacture": (
        COUNTRY,
        False,
        False,
        ("Country of manufacture", "Pays de fabrication", "País de fabricación"),
    ),
    "hs_code": (ref("hs_codes"), True, True, ("HS code", "Code SH", "Código SA")),
    "doses_per_vial": (
        {"type": "integer", "minimum": 1},
        False,
        False,
        ("Doses per vial", "Doses par flacon", "Dosis por vial"),
    ),
    "vials": ({"type": "integer", "minimum": 1}, False, False, ("Vials", "Flacons", "Viales")),
    "doses": ({"type": "integer", "minimum": 1}, True, True, ("Doses", "Doses", "Dosis")),
    "authorisation_reference": (
        SHORT,
        False,
        False,
        (
            "WHO EUL / national authorisation",
            "EUL OMS / autorisation nationale",
            "EUL OMS / autorización nacional",
        ),
    ),
}
PN_COLD: Block = {
    "temperature_min_c": (
        {"type": "integer", "minimum": -100, "maximum": 40},
        True,
        True,
        ("Minimum temperature (°C)", "Température minimale (°C)", "Temperatura mínima (°C)"),
    ),
    "temperature_max_c": (
        {"type": "integer", "minimum": -100, "maximum": 40},
        True,
        True,
        ("Maximum temperature (°C)", "Température maximale (°C)", "Temperatura máxima (°C)"),
    ),
    "iata_handling_code": (
        ref("iata_handling_codes"),
        True,
        True,
        ("IATA handling code", "Code de manutention IATA", "Código de manipulación IATA"),
    ),
    "packaging": (SHORT, False, False, ("Packaging", "Emballage", "Embalaje")),
    "dry_ice_kg": (
        {"type": "number", "minimum": 0},
        False,
        False,
        ("Dry ice (kg)", "Glace carbonique (kg)", "Hielo seco (kg)"),
    ),
    "data_logger_ids": (
        many(SHORT),
        False,
        False,
        ("Data-logger ids", "Enregistreurs de données", "Registradores de datos"),
    ),
}
AIRPORT = {"type": "string", "pattern": "^[A-Z]{3}$"}
PN_TRANSPORT: Block = {
    "mode": (
        ref("transport_modes"),
        True,
        True,
        ("Transport mode", "Mode de transport", "Modo de transporte"),
    ),
    "carrier": (SHORT, False, False, ("Carrier", "Transporteur", "Transportista")),
    "flight_voyage": (SHORT, True, True, ("Flight / voyage", "Vol / voyage", "Vuelo / viaje")),
    "awb_master": (SHORT, False, False, ("Master AWB", "LTA principale", "AWB máster")),
    "awb_house": (SHORT, False, False, ("House AWB", "LTA groupage", "AWB house")),
    "bill_of_lading": (
        SHORT,
        False,
        False,
        ("Bill of lading", "Connaissement", "Conocimiento de embarque"),
    ),
    "departure_airport": (
        AIRPORT,
        False,
        False,
        ("Airport of departure", "Aéroport de départ", "Aeropuerto de salida"),
    ),
    "transit_airports": (
        many(AIRPORT),
        False,
        False,
        ("Transit airports", "Aéroports de transit", "Aeropuertos de tránsito"),
    ),
    "arrival_airport": (
        AIRPORT,
        False,
        False,
        ("Airport of arrival", "Aéroport d'arrivée", "Aeropuerto de llegada"),
    ),
    "etd": (DATETIME, True, True, ("ETD (UTC)", "HPD (UTC)", "ETD (UTC)")),
    "eta": (DATETIME, True, True, ("ETA (UTC)", "HPA (UTC)", "ETA (UTC)")),
    "packages": ({"type": "integer", "minimum": 1}, False, False, ("Packages", "Colis", "Bultos")),
    "gross_weight_kg": (
        {"type": "number", "exclusiveMinimum": 0},
        False,
        False,
        ("Gross weight (kg)", "Poids brut (kg)", "Peso bruto (kg)"),
    ),
    "uld_numbers": (many(SHORT), False, False, ("ULD numbers", "Numéros d'ULD", "Números de ULD")),
    "seal_numbers": (
        many(SHORT),
        False,
        False,
        ("Seal numbers", "Numéros de scellés", "Números de precinto"),
    ),
}
PN_PARTIES: Block = {
    "exporter": (
        SHORT,
        True,
        True,
        ("Exporter / shipper", "Exportateur / expéditeur", "Exportador / remitente"),
    ),
    "consignee": (SHORT, True, True, ("Consignee", "Destinataire", "Consignatario")),
    "notify_party": (
        SHORT,
        False,
        False,
        ("Notify party", "Partie à notifier", "Parte a notificar"),
    ),
    "broker": (SHORT, False, False, ("Broker", "Commissionnaire", "Agente de aduanas")),
    "programme": (ref("programmes"), False, False, ("Programme", "Programme", "Programa")),
}
PN_CONTACTS: Block = {
    "emergency_phone": (
        {"type": "string", "pattern": "^\\+?[0-9 ()-]{6,30}$"},
        True,
        True,
        ("24 h emergency phone", "Téléphone d'urgence 24 h", "Teléfono de emergencia 24 h"),
    ),
    "destination_contact": (
        SHORT,
        False,
        False,
        ("Destination point of contact", "Contact à destination", "Contacto en destino"),
    ),
}
PRENOTIFICATION: Block = {
    "notification_id": (
        {"type": "string", "format": "uuid"},
        False,
        False,
        ("Notification id", "N° de notification", "N.º de notificación"),
    ),
    "operation": (SHORT, False, False, ("Operation", "Opération", "Operación")),
    "sender_country": (
        COUNTRY,
        True,
        True,
        ("Sender country", "Pays expéditeur", "País remitente"),
    ),
    "sender_office": (
        SHORT,
        False,
        False,
        ("Sender office", "Bureau expéditeur", "Oficina remitente"),
    ),
    "destination_country": (
        COUNTRY,
        True,
        True,
        ("Destination country", "Pays de destination", "País de destino"),
    ),
    "transit_countries": (
        many(COUNTRY),
        False,
        False,
        ("Transit countries", "Pays de transit", "Países de tránsito"),
    ),
    **MARKINGS,
    "product": (PN_PRODUCT, True, True, ("Product", "Produit", "Producto")),
    "lots": ((LOT, 1), True, True, ("Lots", "Lots", "Lotes")),
    "diluent_lots": (
        many(SHORT),
        False,
        False,
        ("Diluent lots", "Lots de diluant", "Lotes de diluyente"),
    ),
    "lot_release_certificate": (
        SHORT,
        False,
        False,
        (
            "Lot-release certificate",
            "Certificat de libération de lot",
            "Certificado de liberación de lote",
        ),
    ),
    "cold_chain": (PN_COLD, True, True, ("Cold chain", "Chaîne du froid", "Cadena de frío")),
    "transport": (PN_TRANSPORT, True, True, ("Transport", "Transport", "Transporte")),
    "parties": (PN_PARTIES, True, True, ("Parties", "Parties", "Partes")),
    "documents": (
        many(ref("shipping_documents")),
        False,
        False,
        ("Documents", "Documents", "Documentos"),
    ),
    "contacts": (PN_CONTACTS, True, True, ("Contacts", "Contacts", "Contactos")),
    "remarks": (
        {"type": "string", "maxLength": 5000},
        False,
        False,
        ("Remarks", "Observations", "Observaciones"),
    ),
}


def build(block: Block, form: str, labels: dict[str, dict[str, str]], prefix: str = "") -> Any:
    """One JSON Schema object for a block. Both forms accept every field; the simplified form
    requires only the fields marked M in the domain model, the full form requires more."""
    properties: dict[str, Any] = {}
    required: list[str] = []
    for name, (spec, simple, full, (en, fr, es)) in block.items():
        path = prefix + name
        labels[path] = {"en": en, "fr": fr, "es": es}
        if isinstance(spec, tuple):
            properties[name] = many(build(spec[0], form, labels, path + "."), spec[1])
        elif isinstance(spec, dict) and all(isinstance(v, tuple) for v in spec.values()):
            properties[name] = build(spec, form, labels, path + ".")
        else:
            properties[name] = spec
        if simple if form == "simplified" else full:
            required.append(name)
    return {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


def template(
    template_id: str, title: Labels, forms: dict[str, Block], default_form: str
) -> dict[str, Any]:
    labels: dict[str, dict[str, str]] = {}
    schemas = {}
    for form, block in forms.items():
        schema = build(block, form, labels)
        schemas[form] = {"$schema": SCHEMA, "title": f"{template_id} ({form})", **schema}
    return {
        "id": template_id,
        "version": 1,
        "title": dict(zip(("en", "fr", "es"), title, strict=True)),
        "default_form": default_form,
        "forms": schemas,
        "labels": dict(sorted(labels.items())),
    }


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    vocab = {"countries": countries(), **VOCABULARIES}
    files = {
        "vocabularies.json": {
            "note": "Codes are language-neutral; labels are translated. hs_codes is a curated "
            "list of the HS 2022 headings seen in medical-goods operations, not the whole "
            "nomenclature; countries are ISO 3166-1 alpha-2 (generated from pycountry).",
            "vocabularies": vocab,
        },
        "seizure-case.v1.json": template(
            "seizure-case",
            ("Seizure case", "Cas de saisie", "Caso de incautación"),
            {"full": CASE, "simplified": CASE},
            "full",
        ),
        "vaccine-prenotification.v1.json": template(
            "vaccine-prenotification",
            (
                "Vaccine shipment pre-notification",
                "Pré-notification d'envoi de vaccins",
                "Prenotificación de envío de vacunas",
            ),
            {"full": PRENOTIFICATION},
            "full",
        ),
    }
    for name, body in files.items():
        text = json.dumps(body, ensure_ascii=False, indent=1, sort_keys=False) + "\n"
        (OUT / name).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
