"""The report's own words in the languages the templates carry (`registry.LANGUAGES`).

Codes (countries, modes, categories) take their labels from the template vocabularies; these
are the headings and figure names around them.
"""

from __future__ import annotations

from cordon_client.templates.registry import vocabularies

# Every key carries each of registry.LANGUAGES (tests/analytics/test_render.py checks it).
_MESSAGES: dict[str, dict[str, str]] = {
    "title": {
        "en": "Operation report",
        "fr": "Rapport d'opération",
        "es": "Informe de operación",
        "ru": "Отчёт об операции",
        "ar": "تقرير العملية",
        "pt": "Relatório da operação",
    },
    "weekly_newsletter": {
        "en": "Weekly newsletter",
        "fr": "Lettre hebdomadaire",
        "es": "Boletín semanal",
        "ru": "Еженедельный бюллетень",
        "ar": "النشرة الأسبوعية",
        "pt": "Boletim semanal",
    },
    "daily_report": {
        "en": "Daily report",
        "fr": "Rapport quotidien",
        "es": "Informe diario",
        "ru": "Ежедневный отчёт",
        "ar": "التقرير اليومي",
        "pt": "Relatório diário",
    },
    "analysis_report": {
        "en": "Analysis report",
        "fr": "Rapport d'analyse",
        "es": "Informe de análisis",
        "ru": "Аналитический отчёт",
        "ar": "تقرير تحليلي",
        "pt": "Relatório de análise",
    },
    "period": {
        "en": "Period",
        "fr": "Période",
        "es": "Período",
        "ru": "Период",
        "ar": "الفترة",
        "pt": "Período",
    },
    "phase": {
        "en": "Phase",
        "fr": "Phase",
        "es": "Fase",
        "ru": "Этап",
        "ar": "المرحلة",
        "pt": "Fase",
    },
    "all_dates": {
        "en": "all dates",
        "fr": "toutes dates",
        "es": "todas las fechas",
        "ru": "все даты",
        "ar": "جميع التواريخ",
        "pt": "todas as datas",
    },
    "key_figures": {
        "en": "Key figures",
        "fr": "Chiffres clés",
        "es": "Cifras clave",
        "ru": "Основные показатели",
        "ar": "الأرقام الرئيسية",
        "pt": "Números-chave",
    },
    "members_reporting": {
        "en": "members reported seizure cases",
        "fr": "membres ont signalé des saisies",
        "es": "miembros notificaron casos de incautación",
        "ru": "членов сообщили о случаях изъятия",
        "ar": "أعضاء أبلغوا عن حالات ضبط",
        "pt": "membros comunicaram casos de apreensão",
    },
    "cases": {
        "en": "cases",
        "fr": "cas",
        "es": "casos",
        "ru": "случаи",
        "ar": "حالات",
        "pt": "casos",
    },
    "seizure_reports": {
        "en": "seizure reports",
        "fr": "rapports de saisie",
        "es": "informes de incautación",
        "ru": "сообщения об изъятиях",
        "ar": "تقارير ضبط",
        "pt": "relatórios de apreensão",
    },
    "medicines": {
        "en": "medicines",
        "fr": "médicaments",
        "es": "medicamentos",
        "ru": "лекарственные средства",
        "ar": "أدوية",
        "pt": "medicamentos",
    },
    "medical_devices": {
        "en": "medical devices (including PPE)",
        "fr": "dispositifs médicaux (EPI compris)",
        "es": "productos sanitarios (incluidos EPI)",
        "ru": "медицинские изделия (включая СИЗ)",
        "ar": "أجهزة طبية (بما فيها معدات الوقاية الشخصية)",
        "pt": "dispositivos médicos (incluindo EPI)",
    },
    "vaccine_doses": {
        "en": "vaccine doses",
        "fr": "doses de vaccin",
        "es": "dosis de vacunas",
        "ru": "дозы вакцин",
        "ar": "جرعات لقاح",
        "pt": "doses de vacina",
    },
    "other": {
        "en": "other pieces",
        "fr": "autres pièces",
        "es": "otras piezas",
        "ru": "прочие штуки",
        "ar": "قطع أخرى",
        "pt": "outras peças",
    },
    "total": {
        "en": "pieces in all",
        "fr": "pièces au total",
        "es": "piezas en total",
        "ru": "штук всего",
        "ar": "قطعة إجمالاً",
        "pt": "peças no total",
    },
    "by_region": {
        "en": "By WCO region",
        "fr": "Par région OMD",
        "es": "Por región de la OMA",
        "ru": "По регионам ВТамО",
        "ar": "حسب مناطق منظمة الجمارك العالمية",
        "pt": "Por região da OMA",
    },
    "region": {
        "en": "Region",
        "fr": "Région",
        "es": "Región",
        "ru": "Регион",
        "ar": "المنطقة",
        "pt": "Região",
    },
    "country": {
        "en": "Country",
        "fr": "Pays",
        "es": "País",
        "ru": "Страна",
        "ar": "البلد",
        "pt": "País",
    },
    "by_country": {
        "en": "By country",
        "fr": "Par pays",
        "es": "Por país",
        "ru": "По странам",
        "ar": "حسب البلد",
        "pt": "Por país",
    },
    "by_week": {
        "en": "Cases per week",
        "fr": "Cas par semaine",
        "es": "Casos por semana",
        "ru": "Случаи по неделям",
        "ar": "الحالات أسبوعياً",
        "pt": "Casos por semana",
    },
    "by_phase": {
        "en": "By phase",
        "fr": "Par phase",
        "es": "Por fase",
        "ru": "По этапам",
        "ar": "حسب المرحلة",
        "pt": "Por fase",
    },
    "category_mix": {
        "en": "Pieces by category",
        "fr": "Pièces par catégorie",
        "es": "Piezas por categoría",
        "ru": "Штуки по категориям",
        "ar": "القطع حسب الفئة",
        "pt": "Peças por categoria",
    },
    "reports_by": {
        "en": "Seizure reports by",
        "fr": "Rapports de saisie par",
        "es": "Informes de incautación por",
        "ru": "Сообщения об изъятиях по",
        "ar": "تقارير الضبط حسب",
        "pt": "Relatórios de apreensão por",
    },
    "transport_mode": {
        "en": "transport mode",
        "fr": "mode de transport",
        "es": "modo de transporte",
        "ru": "виду транспорта",
        "ar": "وسيلة النقل",
        "pt": "modo de transporte",
    },
    "detection_method": {
        "en": "detection method",
        "fr": "méthode de détection",
        "es": "método de detección",
        "ru": "методу обнаружения",
        "ar": "طريقة الكشف",
        "pt": "método de deteção",
    },
    "place_type": {
        "en": "place",
        "fr": "lieu",
        "es": "lugar",
        "ru": "месту",
        "ar": "المكان",
        "pt": "local",
    },
    "direction": {
        "en": "direction",
        "fr": "sens",
        "es": "dirección",
        "ru": "направлению",
        "ar": "الاتجاه",
        "pt": "sentido",
    },
    "not_given": {
        "en": "not given",
        "fr": "non indiqué",
        "es": "no indicado",
        "ru": "не указано",
        "ar": "غير محدد",
        "pt": "não indicado",
    },
    "channels": {
        "en": "Free trade zones and e-commerce",
        "fr": "Zones franches et commerce électronique",
        "es": "Zonas francas y comercio electrónico",
        "ru": "Свободные зоны и электронная торговля",
        "ar": "المناطق الحرة والتجارة الإلكترونية",
        "pt": "Zonas francas e comércio eletrónico",
    },
    "free_trade_zone": {
        "en": "reports in free trade zones",
        "fr": "rapports en zone franche",
        "es": "informes en zonas francas",
        "ru": "сообщения в свободных зонах",
        "ar": "تقارير في المناطق الحرة",
        "pt": "relatórios em zonas francas",
    },
    "ecommerce_postal": {
        "en": "reports by post or express courier",
        "fr": "rapports par poste ou fret express",
        "es": "informes por correo o mensajería urgente",
        "ru": "сообщения по почте или экспресс-доставке",
        "ar": "تقارير عبر البريد أو البريد السريع",
        "pt": "relatórios por correio ou correio expresso",
    },
    "concealment": {
        "en": "reports describing a concealment",
        "fr": "rapports décrivant une dissimulation",
        "es": "informes que describen un ocultamiento",
        "ru": "сообщения с описанием сокрытия",
        "ar": "تقارير تصف إخفاءً",
        "pt": "relatórios que descrevem uma ocultação",
    },
    "top_routes": {
        "en": "Top routes",
        "fr": "Principaux itinéraires",
        "es": "Principales rutas",
        "ru": "Основные маршруты",
        "ar": "أهم المسارات",
        "pt": "Principais rotas",
    },
    "departure": {
        "en": "Departure",
        "fr": "Départ",
        "es": "Salida",
        "ru": "Отправление",
        "ar": "المغادرة",
        "pt": "Partida",
    },
    "destination": {
        "en": "Destination",
        "fr": "Destination",
        "es": "Destino",
        "ru": "Назначение",
        "ar": "الوجهة",
        "pt": "Destino",
    },
    "first_seen": {
        "en": "New in this period",
        "fr": "Nouveautés de la période",
        "es": "Novedades del período",
        "ru": "Новое за период",
        "ar": "الجديد في هذه الفترة",
        "pt": "Novidades do período",
    },
    "product_type": {
        "en": "Product type",
        "fr": "Type de produit",
        "es": "Tipo de producto",
        "ru": "Тип продукции",
        "ar": "نوع المنتج",
        "pt": "Tipo de produto",
    },
    "route": {
        "en": "Route",
        "fr": "Itinéraire",
        "es": "Ruta",
        "ru": "Маршрут",
        "ar": "المسار",
        "pt": "Rota",
    },
    "first_date": {
        "en": "First seen",
        "fr": "Première fois",
        "es": "Primera vez",
        "ru": "Впервые",
        "ar": "أول ظهور",
        "pt": "Primeira vez",
    },
    "prenotifications": {
        "en": "Vaccine pre-notifications",
        "fr": "Pré-notifications de vaccins",
        "es": "Notificaciones previas de vacunas",
        "ru": "Предварительные уведомления о вакцинах",
        "ar": "الإخطارات المسبقة باللقاحات",
        "pt": "Notificações prévias de vacinas",
    },
    "sent": {
        "en": "sent",
        "fr": "envoyées",
        "es": "enviadas",
        "ru": "отправлено",
        "ar": "مُرسلة",
        "pt": "enviadas",
    },
    "cancelled": {
        "en": "cancelled",
        "fr": "annulées",
        "es": "canceladas",
        "ru": "отменено",
        "ar": "ملغاة",
        "pt": "canceladas",
    },
    "acknowledged": {
        "en": "acknowledged",
        "fr": "accusées",
        "es": "acusadas",
        "ru": "подтверждено",
        "ar": "مؤكَّد استلامها",
        "pt": "confirmadas",
    },
    "acknowledged_before_eta": {
        "en": "acknowledged before arrival",
        "fr": "accusées avant l'arrivée",
        "es": "acusadas antes de la llegada",
        "ru": "подтверждено до прибытия",
        "ar": "مؤكَّد استلامها قبل الوصول",
        "pt": "confirmadas antes da chegada",
    },
    "arrived": {
        "en": "arrived",
        "fr": "arrivées",
        "es": "llegadas",
        "ru": "прибыло",
        "ar": "وصلت",
        "pt": "chegadas",
    },
    "overdue": {
        "en": "overdue",
        "fr": "en retard",
        "es": "vencidas",
        "ru": "просрочено",
        "ar": "متأخرة",
        "pt": "em atraso",
    },
    "doses": {
        "en": "doses notified",
        "fr": "doses notifiées",
        "es": "dosis notificadas",
        "ru": "доз в уведомлениях",
        "ar": "الجرعات المُخطَر بها",
        "pt": "doses notificadas",
    },
    "hours_to_first_ack": {
        "en": "hours to first acknowledgement (median / 90th pct / max)",
        "fr": "heures jusqu'au premier accusé (médiane / 90e centile / max)",
        "es": "horas hasta el primer acuse (mediana / percentil 90 / máx.)",
        "ru": "часов до первого подтверждения (медиана / 90-й процентиль / макс.)",
        "ar": "ساعات حتى أول تأكيد (الوسيط / المئين 90 / الأقصى)",
        "pt": "horas até à primeira confirmação (mediana / percentil 90 / máx.)",
    },
    "discrepancies": {
        "en": "discrepancies",
        "fr": "anomalies",
        "es": "discrepancias",
        "ru": "расхождения",
        "ar": "تباينات",
        "pt": "discrepâncias",
    },
    "not_counted": {
        "en": "Not counted",
        "fr": "Non comptés",
        "es": "No contabilizados",
        "ru": "Не учтено",
        "ar": "غير محتسب",
        "pt": "Não contabilizados",
    },
    "not_counted_none": {
        "en": "Every item this device holds was counted.",
        "fr": "Tous les éléments de cet appareil ont été comptés.",
        "es": "Se contabilizaron todos los elementos de este dispositivo.",
        "ru": "Все элементы на этом устройстве учтены.",
        "ar": "احتُسبت كل العناصر الموجودة على هذا الجهاز.",
        "pt": "Todos os elementos deste dispositivo foram contabilizados.",
    },
    "what": {
        "en": "Item",
        "fr": "Élément",
        "es": "Elemento",
        "ru": "Элемент",
        "ar": "العنصر",
        "pt": "Elemento",
    },
    "reason": {
        "en": "Reason",
        "fr": "Motif",
        "es": "Motivo",
        "ru": "Причина",
        "ar": "السبب",
        "pt": "Motivo",
    },
    "count": {
        "en": "Count",
        "fr": "Nombre",
        "es": "Número",
        "ru": "Количество",
        "ar": "العدد",
        "pt": "Número",
    },
    "highlights": {
        "en": "Case highlights",
        "fr": "Cas marquants",
        "es": "Casos destacados",
        "ru": "Примечательные случаи",
        "ar": "حالات بارزة",
        "pt": "Casos em destaque",
    },
    "more_in_csv": {
        "en": "… and {n} more (all of them in the CSV and JSON)",
        "fr": "… et {n} de plus (tous dans le CSV et le JSON)",
        "es": "… y {n} más (todos en el CSV y el JSON)",
        "ru": "… и ещё {n} (все — в CSV и JSON)",
        "ar": "… و{n} أخرى (جميعها في CSV وJSON)",
        "pt": "… e mais {n} (todos no CSV e no JSON)",
    },
    "other_units": {
        "en": "Not in pieces",
        "fr": "Hors pièces",
        "es": "No en piezas",
        "ru": "Не в штуках",
        "ar": "بغير القطع",
        "pt": "Não em peças",
    },
    "non_nominal": {
        "en": "Non-nominal: no names of persons, offices or companies and no narratives.",
        "fr": "Non nominatif : ni noms de personnes, de bureaux ou d'entreprises, ni récits.",
        "es": "No nominativo: sin nombres de personas, oficinas o empresas ni relatos.",
        "ru": "Обезличено: без имён лиц, названий подразделений и компаний и без описаний.",
        "ar": "غير اسمي: لا أسماء لأشخاص أو مكاتب أو شركات ولا سرد.",
        "pt": "Não nominativo: sem nomes de pessoas, estâncias ou empresas nem relatos.",
    },
    "computed": {
        "en": "Computed on the device from verified items",
        "fr": "Calculé sur l'appareil à partir d'éléments vérifiés",
        "es": "Calculado en el dispositivo a partir de elementos verificados",
        "ru": "Рассчитано на устройстве по проверенным элементам",
        "ar": "حُسب على الجهاز من عناصر تم التحقق منها",
        "pt": "Calculado no dispositivo a partir de elementos verificados",
    },
}
RTL = frozenset({"ar"})


def text(key: str, lang: str) -> str:
    """A heading or figure name in `lang` (English when the language is not carried)."""
    words = _MESSAGES[key]
    return words.get(lang) or words["en"]


def keys() -> list[str]:
    """Every message key (for the completeness test)."""
    return list(_MESSAGES)


def arrow(lang: str) -> str:
    """The arrow from departure to destination, pointing the way the language reads."""
    return "←" if lang in RTL else "→"


def date(value: object, lang: str) -> str:
    """A date as text that keeps its order in Arabic: after Arabic words the Unicode bidi rules
    would lay 2021-05-01 out as 01-05-2021, so it is isolated left to right (LRI … PDI)."""
    return f"\u2066{value}\u2069" if lang in RTL else str(value)


def direction(lang: str) -> str:
    """The writing direction of `lang`: "rtl" for Arabic, else "ltr"."""
    return "rtl" if lang in RTL else "ltr"


def label(vocabulary: str, code: str, lang: str) -> str:
    """A code's label from the template vocabularies, or the code itself."""
    for entry in vocabularies().get(vocabulary, []):
        if str(entry["code"]) == code:
            return str(entry.get(lang) or entry["en"])
    return text(code, lang) if code in _MESSAGES else code
