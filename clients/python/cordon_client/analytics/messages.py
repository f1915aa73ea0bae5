"""The report's own words in the languages the templates carry (`registry.LANGUAGES`).

Codes (countries, modes, categories) take their labels from the template vocabularies; these
are the headings and figure names around them.
"""

from __future__ import annotations

from cordon_client.templates.registry import vocabularies

_MESSAGES: dict[str, tuple[str, str, str]] = {
    "title": ("Operation report", "Rapport d'opération", "Informe de operación"),
    "weekly_newsletter": ("Weekly newsletter", "Lettre hebdomadaire", "Boletín semanal"),
    "daily_report": ("Daily report", "Rapport quotidien", "Informe diario"),
    "analysis_report": ("Analysis report", "Rapport d'analyse", "Informe de análisis"),
    "period": ("Period", "Période", "Período"),
    "phase": ("Phase", "Phase", "Fase"),
    "all_dates": ("all dates", "toutes dates", "todas las fechas"),
    "key_figures": ("Key figures", "Chiffres clés", "Cifras clave"),
    "members_reporting": (
        "members reported seizure cases",
        "membres ont signalé des saisies",
        "miembros notificaron casos de incautación",
    ),
    "cases": ("cases", "cas", "casos"),
    "seizure_reports": ("seizure reports", "rapports de saisie", "informes de incautación"),
    "medicines": ("medicines", "médicaments", "medicamentos"),
    "medical_devices": (
        "medical devices (including PPE)",
        "dispositifs médicaux (EPI compris)",
        "productos sanitarios (incluidos EPI)",
    ),
    "vaccine_doses": ("vaccine doses", "doses de vaccin", "dosis de vacunas"),
    "other": ("other pieces", "autres pièces", "otras piezas"),
    "total": ("pieces in all", "pièces au total", "piezas en total"),
    "by_region": ("By WCO region", "Par région OMD", "Por región de la OMA"),
    "region": ("Region", "Région", "Región"),
    "country": ("Country", "Pays", "País"),
    "by_country": ("By country", "Par pays", "Por país"),
    "by_week": ("Cases per week", "Cas par semaine", "Casos por semana"),
    "by_phase": ("By phase", "Par phase", "Por fase"),
    "category_mix": ("Pieces by category", "Pièces par catégorie", "Piezas por categoría"),
    "reports_by": ("Seizure reports by", "Rapports de saisie par", "Informes de incautación por"),
    "transport_mode": ("transport mode", "mode de transport", "modo de transporte"),
    "detection_method": ("detection method", "méthode de détection", "método de detección"),
    "place_type": ("place", "lieu", "lugar"),
    "direction": ("direction", "sens", "dirección"),
    "not_given": ("not given", "non indiqué", "no indicado"),
    "channels": (
        "Free trade zones and e-commerce",
        "Zones franches et commerce électronique",
        "Zonas francas y comercio electrónico",
    ),
    "free_trade_zone": (
        "reports in free trade zones",
        "rapports en zone franche",
        "informes en zonas francas",
    ),
    "ecommerce_postal": (
        "reports by post or express courier",
        "rapports par poste ou fret express",
        "informes por correo o mensajería urgente",
    ),
    "concealment": (
        "reports describing a concealment",
        "rapports décrivant une dissimulation",
        "informes que describen un ocultamiento",
    ),
    "top_routes": ("Top routes", "Principaux itinéraires", "Principales rutas"),
    "departure": ("Departure", "Départ", "Salida"),
    "destination": ("Destination", "Destination", "Destino"),
    "first_seen": ("New in this period", "Nouveautés de la période", "Novedades del período"),
    "product_type": ("Product type", "Type de produit", "Tipo de producto"),
    "route": ("Route", "Itinéraire", "Ruta"),
    "first_date": ("First seen", "Première fois", "Primera vez"),
    "prenotifications": (
        "Vaccine pre-notifications",
        "Pré-notifications de vaccins",
        "Notificaciones previas de vacunas",
    ),
    "sent": ("sent", "envoyées", "enviadas"),
    "cancelled": ("cancelled", "annulées", "canceladas"),
    "acknowledged": ("acknowledged", "accusées", "acusadas"),
    "acknowledged_before_eta": (
        "acknowledged before arrival",
        "accusées avant l'arrivée",
        "acusadas antes de la llegada",
    ),
    "arrived": ("arrived", "arrivées", "llegadas"),
    "overdue": ("overdue", "en retard", "vencidas"),
    "doses": ("doses notified", "doses notifiées", "dosis notificadas"),
    "hours_to_first_ack": (
        "hours to first acknowledgement (median / 90th pct / max)",
        "heures jusqu'au premier accusé (médiane / 90e centile / max)",
        "horas hasta el primer acuse (mediana / percentil 90 / máx.)",
    ),
    "discrepancies": ("discrepancies", "anomalies", "discrepancias"),
    "not_counted": ("Not counted", "Non comptés", "No contabilizados"),
    "not_counted_none": (
        "Every item this device holds was counted.",
        "Tous les éléments de cet appareil ont été comptés.",
        "Se contabilizaron todos los elementos de este dispositivo.",
    ),
    "what": ("Item", "Élément", "Elemento"),
    "reason": ("Reason", "Motif", "Motivo"),
    "count": ("Count", "Nombre", "Número"),
    "highlights": ("Case highlights", "Cas marquants", "Casos destacados"),
    "more_in_csv": (
        "… and {n} more (all of them in the CSV and JSON)",
        "… et {n} de plus (tous dans le CSV et le JSON)",
        "… y {n} más (todos en el CSV y el JSON)",
    ),
    "other_units": ("Not in pieces", "Hors pièces", "No en piezas"),
    "non_nominal": (
        "Non-nominal: no names of persons, offices or companies and no narratives.",
        "Non nominatif : ni noms de personnes, de bureaux ou d'entreprises, ni récits.",
        "No nominativo: sin nombres de personas, oficinas o empresas ni relatos.",
    ),
    "computed": (
        "Computed on the device from verified items",
        "Calculé sur l'appareil à partir d'éléments vérifiés",
        "Calculado en el dispositivo a partir de elementos verificados",
    ),
}
LANGS = ("en", "fr", "es")


def text(key: str, lang: str) -> str:
    """A heading or figure name in `lang` (English when the language is not carried)."""
    words = _MESSAGES[key]
    return words[LANGS.index(lang)] if lang in LANGS else words[0]


def label(vocabulary: str, code: str, lang: str) -> str:
    """A code's label from the template vocabularies, or the code itself."""
    for entry in vocabularies().get(vocabulary, []):
        if str(entry["code"]) == code:
            return str(entry.get(lang) or entry["en"])
    return text(code, lang) if code in _MESSAGES else code
