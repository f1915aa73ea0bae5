"""Seed a demo operation so a first run has something to log in to.

Demo accounts get a fixed development password and, where TOTP is required, a fixed seed,
so the printed instructions stay valid across restarts. Settings refuse demo seeding in
production.
"""

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.codes import Region
from app.core.config import Settings
from app.core.security import hash_password, seal_secret
from app.demo.accounts import DEMO_GROUP, DEMO_PASSWORD, DEMO_TOTP_SEED, DEMO_TOTP_USERNAMES
from app.groups import service as groups_service
from app.groups.models import GroupRole, GroupStatus
from app.groups.schemas import GroupCreate, MemberAdd
from app.groups.service import GroupAccess
from app.organisations import service as organisations_service
from app.organisations.models import Organisation
from app.organisations.schemas import OrganisationCreate
from app.users.models import PlatformRole, User


@dataclass(frozen=True)
class DemoAccount:
    """One seeded login, as printed to the operator."""

    username: str
    display_name: str
    organisation: str
    role: str
    totp: bool


_ORGS = [
    ("WCO Secretariat (OCU)", "BE", Region.EUR),
    ("Belgian Customs", "BE", Region.EUR),
    ("Kenya Revenue Authority - Customs", "KE", Region.ESA),
    ("Royal Thai Customs", "TH", Region.AP),
    ("Receita Federal do Brasil", "BR", Region.AMS),
    ("Europol", "NL", Region.EUR),
]
_USERS = [
    # username, name, org index, platform role, group role (TOTP: `DEMO_TOTP_USERNAMES`)
    ("admin", "Platform Administrator", 0, PlatformRole.ADMIN, None),
    ("ocu.coordinator", "OCU Coordinator", 0, PlatformRole.USER, GroupRole.COORDINATOR),
    ("be.ncp", "Belgian NCP", 1, PlatformRole.USER, GroupRole.MEMBER),
    ("ke.ncp", "Kenyan NCP", 2, PlatformRole.USER, GroupRole.MEMBER),
    ("th.ncp", "Thai NCP", 3, PlatformRole.USER, GroupRole.MEMBER),
    ("br.ncp", "Brazilian NCP", 4, PlatformRole.USER, GroupRole.MEMBER),
    ("europol.observer", "Europol Liaison", 5, PlatformRole.USER, GroupRole.OBSERVER),
]


async def is_empty(session: AsyncSession) -> bool:
    """True on a database that has never been given an organisation."""
    return (await session.scalar(select(func.count()).select_from(Organisation)) or 0) == 0


async def seed(session: AsyncSession, *, settings: Settings) -> list[DemoAccount]:
    """Create the demo organisations, users and an active group with every role in it."""
    orgs = [
        await organisations_service.create(
            session,
            organisation_in=OrganisationCreate(name=n, country_code=c, region=r),
        )
        for n, c, r in _ORGS
    ]
    users: list[tuple[User, GroupRole | None]] = []
    for username, name, org_index, platform_role, group_role in _USERS:
        totp = username in DEMO_TOTP_USERNAMES
        user = User(
            organisation_id=orgs[org_index].id,
            username=username,
            display_name=name,
            platform_role=platform_role.value,
            is_ncp=username.endswith(".ncp"),
            password_hash=hash_password(DEMO_PASSWORD),
            totp_sealed=seal_secret(settings.secret_key, DEMO_TOTP_SEED) if totp else None,
            totp_enabled=totp,
        )
        session.add(user)
        users.append((user, group_role))
    await session.commit()
    admin, coordinator = users[0][0], users[1][0]
    group = await groups_service.create(
        session,
        actor=admin,
        group_in=GroupCreate(
            name=DEMO_GROUP,
            description="Demo: illicit medicines, medical devices and COVID-19 vaccines.",
            coordinator_id=coordinator.id,
        ),
    )
    access = await groups_service.find_access(session, group_id=group.id, user=coordinator)
    assert isinstance(access, GroupAccess)
    await groups_service.change_status(session, access=access, status=GroupStatus.ACTIVE)
    for user, role in users[2:]:
        assert role is not None
        await groups_service.add_member(
            session, access=access, member_in=MemberAdd(user_id=user.id, role=role)
        )
    return [
        DemoAccount(
            username=u.username,
            display_name=u.display_name,
            organisation=_ORGS[spec[2]][0],
            role=(role.value if role else "platform admin"),
            totp=u.totp_enabled,
        )
        for (u, role), spec in zip(users, _USERS, strict=True)
    ]
