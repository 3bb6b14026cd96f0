"""Who a campaign goes to: a filter over people that features extend with their own criteria.

An audience is stored as {criterion: [values]}; people must match every criterion given (any of
its values). A later feature registers its own criterion, e.g. a themed chat's members:

    @criterion("chat")
    def _chat_members(values):
        return Person.id.in_(select(ChatMember.person_id).where(ChatMember.chat_id.in_(values)))

Each person gets the message once, on their first account that is still reachable.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Account, Person, Role
from bot.services.people import RoleName

Condition = Callable[[list[str]], ColumnElement[bool]]
CRITERIA: dict[str, Condition] = {}
ALL_PARENTS: dict[str, list[str]] = {"role": [RoleName.parent]}


def criterion(name: str) -> Callable[[Condition], Condition]:
    def register(condition: Condition) -> Condition:
        CRITERIA[name] = condition
        return condition

    return register


@criterion("role")
def _role(values: list[str]) -> ColumnElement[bool]:
    return Person.id.in_(select(Role.person_id).where(Role.role.in_(values)))


@criterion("district")
def _district(values: list[str]) -> ColumnElement[bool]:
    return Person.district.in_(values)


@criterion("language")
def _language(values: list[str]) -> ColumnElement[bool]:
    return Person.language.in_(values)


@criterion("platform")
def _platform(values: list[str]) -> ColumnElement[bool]:
    return Account.platform.in_(values)


def recipients(audience: dict[str, list[str]], platforms: Iterable[str] | None = None) -> Select:
    """(person_id, account_id, platform, chat_id) for everyone in the audience, one row a person,
    on the first of their accounts that is reachable (and on one of `platforms`, if given)."""
    conditions = [CRITERIA[name](values) for name, values in audience.items() if values]
    if platforms is not None:
        conditions.append(Account.platform.in_(list(platforms)))
    first_accounts = (
        select(func.min(Account.id).label("account_id"))
        .join(Person, Person.id == Account.person_id)
        .where(Account.unreachable_since.is_(None), *conditions)
        .group_by(Account.person_id)
        .subquery()
    )
    return select(Account.person_id, Account.id, Account.platform, Account.external_id).join(first_accounts, Account.id == first_accounts.c.account_id)


async def count_recipients(session: AsyncSession, audience: dict[str, list[str]], platforms: Iterable[str] | None = None) -> int:
    return await session.scalar(select(func.count()).select_from(recipients(audience, platforms).subquery())) or 0
