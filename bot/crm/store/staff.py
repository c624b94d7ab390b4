"""Staff accounts: agents, supervisors and admins who sign in to the console with a password."""

from __future__ import annotations

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


class StaffStore(StoreBase):
    def create(self, username: str, password: str, role: StaffRole) -> StaffInfo:
        """A new account; ValueError for an unknown role or a username already taken."""
        role = _known_role(role)
        with self._session() as session:
            exists = session.scalars(
                select(StaffUser.id).where(StaffUser.username == username)
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
        with self._session() as session:
            user = session.scalars(
                select(StaffUser).where(StaffUser.username == username, StaffUser.active)
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
