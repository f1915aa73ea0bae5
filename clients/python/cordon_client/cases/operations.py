"""Seizure cases: post (validated before encrypting), amend, reply, review, list.

A case is a broadcast alert; amendments (new versions, same template), replies and a
coordinator's reviews are thread items whose `parent_seq` is the case's seq.
"""

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from cordon_client._client import Cordon
from cordon_client.records.store import (
    DomainError,
    archive_own,
    archived,
    coordinators,
    whoami,
)
from cordon_client.records.view import (
    CASE,
    CASE_AMENDMENT,
    REPLY,
    REVIEW,
    VERDICTS,
    CaseView,
    Item,
    build_cases,
    domain_registry,
    filter_cases,
)
from cordon_client.templates.registry import Template, TemplateRegistry


def _case_content(
    registry: TemplateRegistry,
    kind: str,
    case: Mapping[str, Any],
    template: Template | None,
    form: str | None,
) -> bytes:
    chosen = template or registry.get("seizure-case")
    return registry.make_content(kind, chosen.id, case, version=chosen.version, form=form)


async def post_case(
    cordon: Cordon,
    group_id: uuid.UUID,
    case: Mapping[str, Any],
    *,
    template: Template | None = None,
    form: str | None = None,
    urgent: bool = False,
    registry: TemplateRegistry | None = None,
) -> Item:
    """Validate a seizure case, then broadcast it to the whole group as an alert.

    Args:
        case: the case data, including handling code, source reliability and accuracy.
        template: the template version to write it in (default: the latest seizure-case).
        form: ``full`` or ``simplified`` (default: the template's default form).

    Returns:
        The archived item; its `seq` identifies the case.

    Raises:
        InvalidContentError: a field does not fit the template (path and reason per field).
    """
    reg = registry or domain_registry()
    content = _case_content(reg, CASE, case, template, form)
    seq = await cordon.send(group_id, content, kind="alert", urgent=urgent)
    return archive_own(cordon, group_id, seq, "alert", content, reg)


def _case(cordon: Cordon, group_id: uuid.UUID, case_seq: int) -> CaseView:
    for view in build_cases(archived(cordon, group_id)):
        if view.seq == case_seq:
            return view
    raise DomainError(f"no valid case #{case_seq} on this device (sync first?)")


async def amend_case(
    cordon: Cordon,
    group_id: uuid.UUID,
    case_seq: int,
    case: Mapping[str, Any],
    *,
    template: Template | None = None,
    form: str | None = None,
    registry: TemplateRegistry | None = None,
) -> Item:
    """Post a new version of your own case; earlier versions stay in its thread."""
    view = _case(cordon, group_id, case_seq)
    if view.original.sender_user_id != whoami(cordon)[0]:
        raise DomainError("only the case's sender may amend it; reply to ask for corrections")
    reg = registry or domain_registry()
    content = _case_content(reg, CASE_AMENDMENT, case, template, form)
    seq = await cordon.send(group_id, content, kind="alert", parent_seq=case_seq)
    return archive_own(cordon, group_id, seq, "alert", content, reg, case_seq)


async def reply(
    cordon: Cordon,
    group_id: uuid.UUID,
    parent_seq: int,
    text: str,
    *,
    registry: TemplateRegistry | None = None,
) -> Item:
    """Reply to a case (or to a reply in its thread) with a follow-up question or answer."""
    reg = registry or domain_registry()
    content = reg.make_content(REPLY, "case-reply", {"text": text})
    seq = await cordon.send(group_id, content, kind="chat", parent_seq=parent_seq)
    return archive_own(cordon, group_id, seq, "chat", content, reg, parent_seq)


async def review_case(
    cordon: Cordon,
    group_id: uuid.UUID,
    case_seq: int,
    *,
    verdict: str,
    note: str | None = None,
    registry: TemplateRegistry | None = None,
) -> Item:
    """As a coordinator: mark a case verified, or ask its sender for corrections."""
    if verdict not in VERDICTS:
        raise DomainError(f"verdict must be one of {', '.join(VERDICTS)}")
    session = await cordon._session(group_id, refresh=True)
    if whoami(cordon)[0] not in coordinators(session.roster):
        raise DomainError("only a coordinator may review a case")
    _case(cordon, group_id, case_seq)
    reg = registry or domain_registry()
    data = {"verdict": verdict, **({"note": note} if note else {})}
    content = reg.make_content(REVIEW, "case-review", data)
    seq = await cordon.send(group_id, content, kind="chat", parent_seq=case_seq, review=True)
    return archive_own(cordon, group_id, seq, "chat", content, reg, case_seq)


def cases(
    cordon: Cordon,
    group_id: uuid.UUID,
    *,
    status: Iterable[str] | None = None,
    country: str | None = None,
    handling_code: str | None = None,
) -> list[CaseView]:
    """The group's cases on this device, filtered on decrypted fields."""
    views = build_cases(archived(cordon, group_id))
    return filter_cases(views, status=status, country=country, handling_code=handling_code)
