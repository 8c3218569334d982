"""A second factor for the accounts that can act for a ministry: a time-based code (TOTP,
RFC 6238, as authenticator apps compute it) and single-use recovery codes.

Officials, moderators and administrators must have one (a setting, on by default); any citizen
may add one. A code is accepted once: the step it belongs to is recorded, so a code seen over a
shoulder or in a log cannot be replayed in the same half-minute.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
from datetime import datetime
from urllib.parse import quote

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from consult.accounts.models import RecoveryCode, Role, User
from consult.audit.services import record_event
from consult.errors import FormError
from consult.i18n import gettext as _

STEP_SECONDS = 30
DIGITS = 6
# Codes of the step before and after are accepted too: phones' clocks drift.
DRIFT_STEPS = 1
RECOVERY_CODES = 10
STAFF = (Role.MODERATOR, Role.OFFICIAL, Role.ADMIN)


def needs_second_factor(user: User, staff_must: bool) -> bool:
    """Whether the account must set a second factor up before acting."""
    return staff_must and user.role in STAFF and user.totp_confirmed_at is None


def new_secret() -> str:
    """A random 160-bit secret, in the base32 form apps accept."""
    return base64.b32encode(secrets.token_bytes(20)).decode()


def provisioning_uri(secret: str, account: str, issuer: str) -> str:
    """The `otpauth://` address an app reads from a QR code."""
    label = quote(f"{issuer}:{account}")
    return f"otpauth://totp/{label}?secret={secret}&issuer={quote(issuer)}&digits={DIGITS}"


def code_at(secret: str, step: int) -> str:
    """The code of one time step (RFC 4226's HOTP of the step counter)."""
    key = base64.b32decode(secret)
    digest = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(number % 10**DIGITS).zfill(DIGITS)


def _step(now: datetime) -> int:
    return int(now.timestamp()) // STEP_SECONDS


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    code = "".join(code.split())
    if len(code) != DIGITS or not code.isascii() or not code.isdigit():
        return None
    current = _step(now)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(code_at(secret, step).encode(), code.encode()):
            return step
    return None


def _recovery_digest(code: str) -> str:
    normalised = "".join(code.split()).replace("-", "").lower()
    return hashlib.sha256(normalised.encode()).hexdigest()


async def start_setup(db: AsyncSession, user: User) -> str:
    """The secret to show while setting up (a new one unless one is already waiting)."""
    if user.totp_secret is None or user.totp_confirmed_at is not None:
        user.totp_secret, user.totp_confirmed_at, user.totp_last_step = new_secret(), None, None
    return user.totp_secret


async def confirm_setup(db: AsyncSession, user: User, code: str, now: datetime) -> list[str]:
    """Turn the second factor on with a first code from the app; returns the recovery codes,
    shown once (FormError: the code does not match)."""
    if user.totp_secret is None or user.totp_confirmed_at is not None:
        raise FormError({"code": _("Start again: open the page to set up a new code.")})
    step = _matching_step(user.totp_secret, code, now)
    if step is None:
        raise FormError({"code": _("This code does not match. Check the time of your phone.")})
    user.totp_confirmed_at, user.totp_last_step = now, step
    codes = await _new_recovery_codes(db, user)
    await record_event(db, user.id, "account.second_factor_on", f"user:{user.id}")
    return codes


async def _new_recovery_codes(db: AsyncSession, user: User) -> list[str]:
    await db.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = ["-".join((secrets.token_hex(3), secrets.token_hex(3))) for _ in range(RECOVERY_CODES)]
    db.add_all(RecoveryCode(user_id=user.id, digest=_recovery_digest(c)) for c in codes)
    await db.flush()
    return codes


async def check_code(db: AsyncSession, user: User, code: str, now: datetime) -> bool:
    """Whether `code` proves the second factor: a code of the app not used before, or an
    unused recovery code (spent by this use)."""
    if user.totp_secret is None or user.totp_confirmed_at is None:
        return False
    step = _matching_step(user.totp_secret, code, now)
    if step is not None:
        # Spent by one conditional update: two logins racing with one code, one wins.
        last = user.totp_last_step if user.totp_last_step is not None else -1
        if step <= last:
            return False
        spent = await db.execute(
            update(User)
            .where(
                User.id == user.id, (User.totp_last_step.is_(None)) | (User.totp_last_step < step)
            )
            .values(totp_last_step=step)
            .execution_options(synchronize_session=False)
        )
        if int(getattr(spent, "rowcount", 0) or 0) != 1:
            return False
        user.totp_last_step = step
        return True
    recovery = await db.scalar(
        select(RecoveryCode).where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.digest == _recovery_digest(code),
            RecoveryCode.used_at.is_(None),
        )
    )
    if recovery is None:
        return False
    recovery.used_at = now
    await record_event(db, user.id, "account.recovery_code_used", f"user:{user.id}")
    return True


async def turn_off(
    db: AsyncSession, user: User, code: str, now: datetime, staff_must: bool
) -> None:
    """Remove the second factor (FormError: required for this account, or a wrong code)."""
    if needs_second_factor_when_off(user, staff_must):
        raise FormError({"code": _("Your role requires a second factor: it stays on.")})
    if not await check_code(db, user, code, now):
        raise FormError({"code": _("This code does not match. Check the time of your phone.")})
    user.totp_secret, user.totp_confirmed_at, user.totp_last_step = None, None, None
    await db.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    await record_event(db, user.id, "account.second_factor_off", f"user:{user.id}")


def needs_second_factor_when_off(user: User, staff_must: bool) -> bool:
    """Whether the account's role requires a second factor."""
    return staff_must and user.role in STAFF


async def remaining_recovery_codes(db: AsyncSession, user: User) -> int:
    """How many recovery codes the account can still use."""
    rows = await db.scalars(
        select(RecoveryCode.digest).where(
            RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
        )
    )
    return len(list(rows))


# Between the password and the code: how long the code form stays valid.
PENDING_FOR = 300


def pending_login(secret_key: str, user: User, now: datetime) -> str:
    """A token saying "this person gave the right password just now", carried by the code form
    (signed with the site's key and the account's second-factor secret)."""
    issued = int(now.timestamp())
    return f"{user.id}.{issued}.{_pending_signature(secret_key, user, issued)}"


def _pending_signature(secret_key: str, user: User, issued: int) -> str:
    message = f"second-factor:{user.id}:{issued}:{user.totp_secret}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()[:40]


async def user_of_pending_login(
    db: AsyncSession, secret_key: str, token: str, now: datetime
) -> User | None:
    """The account whose password was given, if the token is genuine and recent."""
    parts = token.split(".")
    if len(parts) != 3 or not all(p.isascii() and p.isalnum() for p in parts):
        return None
    user_id, issued, signature = parts
    if not (user_id.isdigit() and issued.isdigit()) or len(user_id) > 10:
        return None
    if not 0 <= int(now.timestamp()) - int(issued) <= PENDING_FOR:
        return None
    user = await db.get(User, int(user_id))
    if user is None or not user.is_active or user.totp_confirmed_at is None:
        return None
    expected = _pending_signature(secret_key, user, int(issued))
    return user if hmac.compare_digest(expected.encode(), signature.encode()) else None
