"""Staff accounts: agents, supervisors and admins who sign in to the console with a password."""

from __future__ import annotations

import re
import unicodedata

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.crm import models
from bot.crm.enums import StaffRole
from bot.crm.models import StaffSession, StaffUser
from bot.crm.store.base import Conflict, NotFound, StoreBase
from bot.crm.store.records import StaffInfo
from bot.crm.store.sessions import end_sessions

ADMIN_USERNAME = "admin"
"""The account made at first start (`bot.setup.ensure_admin`)."""

_password_hasher = PasswordHasher()
_USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,79}")
USERNAME_RULE = (
    "a username is 2 to 80 characters of a-z, 0-9, '.', '_' and '-', starting with a letter or"
    " digit (letter case is ignored)"
)


class InvalidUsername(ValueError):
    """A username outside `USERNAME_RULE`."""


def folded_username(username: str) -> str:
    """`username` as NFKC, trimmed and lower case: the spellings of one account fold together."""
    return unicodedata.normalize("NFKC", username).strip().lower()


def normal_username(username: str) -> str:
    """The one spelling of a username: NFKC, trimmed, lower case, within `USERNAME_RULE`.

    "admin ", "Admin", a Cyrillic "аdmin", "ad\u200bmin" and a right-to-left override all
    looked like "admin" in a list of accounts or the audit log while being other accounts;
    plain ASCII names with case ignored leave one account per look. InvalidUsername otherwise.
    """
    name = folded_username(username)
    if not _USERNAME.fullmatch(name):
        raise InvalidUsername(f"{USERNAME_RULE}; {username!r} is not")
    return name


class StaffStore(StoreBase):
    def create(self, username: str, password: str, role: StaffRole) -> StaffInfo:
        """A new account under its normal username (`normal_username`); ValueError for an
        unknown role, a username outside the rule (InvalidUsername) or one already taken in
        any letter case."""
        role = _known_role(role)
        username = normal_username(username)
        with self._session() as session:
            exists = session.scalars(
                select(StaffUser.id).where(func.lower(StaffUser.username) == username)
            ).first()
            if exists is not None:
                raise ValueError(f"a staff account named {username!r} already exists")
            user = StaffUser(
                username=username,
                password_hash=_password_hasher.hash(password),
                role=role,
            )
            session.add(user)
            session.flush()
            return StaffInfo.of(user)

    def authenticate(self, username: str, password: str) -> StaffInfo | None:
        """The active account named `username` in any letter case, if `password` is its own.

        Accounts made before usernames were normalised are matched case-insensitively too.
        """
        try:
            username = normal_username(username)
        except InvalidUsername:
            username = ""
        with self._session() as session:
            user = session.scalars(
                select(StaffUser).where(
                    func.lower(StaffUser.username) == username, StaffUser.active
                )
            ).first()
            if user is None:
                _password_hasher.hash(password)  # same cost as a wrong password: no user probing
                return None
            try:
                _password_hasher.verify(user.password_hash, password)
            except (VerifyMismatchError, InvalidHashError):
                return None
            if _password_hasher.check_needs_rehash(user.password_hash):
                user.password_hash = _password_hasher.hash(password)
            return StaffInfo.of(user)

    def get(self, staff_id: int) -> StaffInfo:
        with self._session() as session:
            return StaffInfo.of(self._user(session, staff_id))

    def update(
        self, staff_id: int, *, role: StaffRole | None = None, active: bool | None = None
    ) -> StaffInfo:
        """Change an account's role or status (None leaves it as it is).

        A new role or a deactivation revokes every session of the account in the same
        transaction, so the next request signs in again with the account as it is now.
        NotFound for an unknown account, ValueError for an unknown role, Conflict when it
        would leave no active admin.
        """
        new_role = _known_role(role) if role is not None else None
        with self._session() as session:
            user = self._user(session, staff_id)
            new_role = new_role or StaffRole(user.role)
            new_active = user.active if active is None else active
            role_changed = new_role != user.role
            deactivated = user.active and not new_active
            if (role_changed or deactivated) and self._last_active_admin(session, user):
                raise Conflict("the last active admin cannot be demoted or deactivated")
            user.role = new_role
            user.active = new_active
            if role_changed or deactivated:
                which = StaffSession.staff_id == staff_id
                end_sessions(session, which, self._db_time(models.utcnow()))
            session.flush()
            return StaffInfo.of(user)

    def list(self) -> list[StaffInfo]:
        with self._session() as session:
            users = session.scalars(select(StaffUser).order_by(StaffUser.id)).all()
            return [StaffInfo.of(user) for user in users]

    @staticmethod
    def _user(session: Session, staff_id: int) -> StaffUser:
        user = session.get(StaffUser, staff_id)
        if user is None:
            raise NotFound(f"staff account {staff_id} not found")
        return user

    @staticmethod
    def _last_active_admin(session: Session, user: StaffUser) -> bool:
        if not (user.active and user.role == StaffRole.ADMIN):
            return False
        admins = session.scalar(
            select(func.count(StaffUser.id)).where(
                StaffUser.role == StaffRole.ADMIN, StaffUser.active
            )
        )
        return admins == 1


def _known_role(role: str) -> StaffRole:
    if role not in StaffRole.values():
        raise ValueError(f"role must be one of {', '.join(StaffRole.values())}")
    return StaffRole(role)
