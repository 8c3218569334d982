"""Identities verified by an OpenID Connect provider (FranceConnect, a ministry's own, …).

The provider asserts who the person is; consult keeps only the provider's identifier for them
(issuer and subject), a public name built from the first name and the initial of the last, and
the email address when the provider says it is verified. The flow is the authorization code
flow with PKCE, a state and a nonce; the ID token's signature, issuer, audience, expiry and
nonce are checked against the provider's published keys.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import urllib.parse
import urllib.request
from dataclasses import asdict, dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

import anyio
import jwt
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from consult.accounts.models import IdentityLink, User, VerificationLevel
from consult.accounts.services import EMAIL_PATTERN, MAX_DISPLAY_NAME, normalise_email
from consult.errors import FormError
from consult.i18n import gettext as _

# How long a sign-in may take at the provider, and then to confirm here.
ATTEMPT_SECONDS = 600
TIMEOUT_SECONDS = 10


class IdentityRefused(Exception):
    """The provider's answer cannot be trusted or used (the reason is for the logs);
    `provider_fault`: the provider was out of reach or answered wrongly, rather than the
    browser bringing an attempt that is not its own, forged or too old."""

    def __init__(self, reason: str, provider_fault: bool = False) -> None:
        super().__init__(reason)
        self.provider_fault = provider_fault


@dataclass(frozen=True)
class Provider:
    """What the provider publishes about itself."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str | None


@dataclass(frozen=True)
class Identity:
    """A person as the provider asserted them."""

    issuer: str
    subject: str
    given_name: str
    family_name: str
    name: str
    email: str | None
    """Only an address the provider says it verified."""

    def public_name(self) -> str:
        """First name and the initial of the last, as the person is shown by default."""
        if self.given_name:
            initial = f" {self.family_name.strip()[0]}." if self.family_name.strip() else ""
            return f"{self.given_name.strip()}{initial}"[:MAX_DISPLAY_NAME]
        return (self.name.strip() or _("Verified citizen"))[:MAX_DISPLAY_NAME]


def _fetch_json(
    url: str, data: dict[str, str] | None = None, headers: dict[str, str] | None = None
) -> Any:
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    request = urllib.request.Request(url, data=body, headers=headers or {})  # noqa: S310
    with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
        return json.load(response)


@lru_cache(maxsize=8)
def _discover(issuer: str) -> Provider:
    config = _fetch_json(f"{issuer.rstrip('/')}/.well-known/openid-configuration")
    return Provider(
        issuer=config["issuer"],
        authorization_endpoint=config["authorization_endpoint"],
        token_endpoint=config["token_endpoint"],
        jwks_uri=config["jwks_uri"],
        userinfo_endpoint=config.get("userinfo_endpoint"),
    )


async def discover(issuer: str) -> Provider:
    """The provider's configuration (fetched once per process)."""
    if not issuer.startswith(("https://", "http://")):
        raise IdentityRefused("the issuer is not an http(s) address")
    try:
        return await anyio.to_thread.run_sync(_discover, issuer)
    except (OSError, ValueError, KeyError) as error:
        raise IdentityRefused(f"discovery failed: {error}", provider_fault=True) from error


def _sign(secret_key: str, payload: dict[str, Any]) -> str:
    body = base64.urlsafe_b64encode(json.dumps(payload, sort_keys=True).encode()).decode()
    mac = hmac.new(secret_key.encode(), f"identity:{body}".encode(), hashlib.sha256).hexdigest()
    return f"{body}.{mac}"


def _unsign(secret_key: str, value: str, now: datetime) -> dict[str, Any]:
    body, _dot, mac = value.partition(".")
    expected = hmac.new(secret_key.encode(), f"identity:{body}".encode(), hashlib.sha256)
    if not hmac.compare_digest(expected.hexdigest().encode(), mac.encode()):
        raise IdentityRefused("bad signature")
    try:
        payload: dict[str, Any] = json.loads(base64.urlsafe_b64decode(body.encode()))
    except ValueError as error:
        raise IdentityRefused("unreadable") from error
    if not 0 <= now.timestamp() - float(payload.get("at", 0)) <= ATTEMPT_SECONDS:
        raise IdentityRefused("expired")
    return payload


async def begin(
    issuer: str, client_id: str, scopes: str, redirect_uri: str, secret_key: str, now: datetime
) -> tuple[str, str]:
    """The provider's address to send the person to, and the signed value to keep in their
    browser meanwhile (state, nonce and PKCE verifier)."""
    provider = await discover(issuer)
    state, nonce, verifier = (secrets.token_urlsafe(24) for _ in range(3))
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": scopes,
        "state": state,
        "nonce": nonce,
        "code_challenge": challenge.decode().rstrip("="),
        "code_challenge_method": "S256",
    }
    attempt = {"state": state, "nonce": nonce, "verifier": verifier, "at": now.timestamp()}
    url = f"{provider.authorization_endpoint}?{urllib.parse.urlencode(query)}"
    return url, _sign(secret_key, attempt)


async def complete(
    issuer: str,
    client_id: str,
    client_secret: str,
    redirect_uri: str,
    secret_key: str,
    attempt_value: str,
    code: str,
    state: str,
    now: datetime,
) -> Identity:
    """Check the provider's answer and exchange its code for the person's identity."""
    attempt = _unsign(secret_key, attempt_value, now)
    if not state or not hmac.compare_digest(attempt["state"].encode(), state.encode()):
        raise IdentityRefused("state mismatch")
    provider = await discover(issuer)
    credentials = base64.b64encode(
        f"{urllib.parse.quote(client_id)}:{urllib.parse.quote(client_secret)}".encode()
    ).decode()
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "code_verifier": attempt["verifier"],
    }
    try:
        tokens = await anyio.to_thread.run_sync(
            lambda: _fetch_json(
                provider.token_endpoint, form, {"Authorization": f"Basic {credentials}"}
            )
        )
        claims = await anyio.to_thread.run_sync(
            lambda: _verified_claims(provider, client_id, tokens["id_token"], attempt["nonce"])
        )
        if provider.userinfo_endpoint and tokens.get("access_token"):
            bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
            more = await anyio.to_thread.run_sync(
                lambda: _fetch_json(provider.userinfo_endpoint or "", None, bearer)
            )
            if more.get("sub") == claims["sub"]:
                claims = {**more, **claims}
    except (OSError, ValueError, KeyError, jwt.PyJWTError) as error:
        raise IdentityRefused(f"{type(error).__name__}: {error}", provider_fault=True) from error
    return _identity(provider.issuer, claims)


def _verified_claims(
    provider: Provider, client_id: str, id_token: str, nonce: str
) -> dict[str, Any]:
    keys = jwt.PyJWKClient(provider.jwks_uri, timeout=TIMEOUT_SECONDS)
    kid = jwt.get_unverified_header(id_token).get("kid")
    if kid is not None:
        key = keys.get_signing_key(kid)
    else:
        # A provider with a single key may leave its id out of the token.
        published = keys.get_signing_keys()
        if len(published) != 1:
            raise IdentityRefused("the token names no key among several")
        key = published[0]
    claims: dict[str, Any] = jwt.decode(
        id_token,
        key.key,
        algorithms=["RS256", "ES256", "PS256", "EdDSA"],
        audience=client_id,
        issuer=provider.issuer,
        options={"require": ["exp", "iat", "sub", "aud", "iss"]},
    )
    if not hmac.compare_digest(str(claims.get("nonce", "")).encode(), nonce.encode()):
        raise IdentityRefused("nonce mismatch")
    return claims


def _identity(issuer: str, claims: dict[str, Any]) -> Identity:
    email = normalise_email(str(claims.get("email") or ""))
    verified = claims.get("email_verified") in (True, "true")
    return Identity(
        issuer=issuer,
        subject=str(claims["sub"])[:255],
        given_name=str(claims.get("given_name") or "")[:80],
        family_name=str(claims.get("family_name") or "")[:80],
        name=str(claims.get("name") or "")[:80],
        email=email if verified and EMAIL_PATTERN.match(email) else None,
    )


def keep_identity(secret_key: str, identity: Identity, now: datetime) -> str:
    """The identity signed, to keep in the browser until the person confirms here."""
    return _sign(secret_key, {**asdict(identity), "at": now.timestamp()})


def kept_identity(secret_key: str, value: str, now: datetime) -> Identity:
    """The identity kept by `keep_identity` (IdentityRefused: forged or too old)."""
    payload = _unsign(secret_key, value, now)
    payload.pop("at", None)
    try:
        return Identity(**payload)
    except TypeError as error:
        raise IdentityRefused("unreadable identity") from error


async def account_of(db: AsyncSession, identity: Identity) -> User | None:
    """The account this identity already signs in to."""
    link = await db.scalar(
        select(IdentityLink).where(
            IdentityLink.issuer == identity.issuer, IdentityLink.subject == identity.subject
        )
    )
    return await db.get(User, link.user_id) if link is not None else None


async def sign_in(
    db: AsyncSession, identity: Identity, current: User | None, accepted_terms: bool, now: datetime
) -> User:
    """The account to log in: the one this identity is linked to, else the current one (now
    verified), else a new one (FormError: terms not accepted, or linked elsewhere)."""
    user = await account_of(db, identity)
    if user is not None and current is not None and user.id != current.id:
        raise FormError({"form": _("This identity is already linked to another account.")})
    if user is not None and not user.is_active:
        raise FormError({"form": _("The account of this identity was closed.")})
    if user is None:
        if current is None and not accepted_terms:
            raise FormError({"accept_terms": _("Accept the terms of use to create an account.")})
        user = current or await _new_account(db, identity)
        db.add(
            IdentityLink(
                user_id=user.id, issuer=identity.issuer, subject=identity.subject, created_at=now
            )
        )
    user.verification_level = max(user.verification_level, VerificationLevel.IDENTITY)
    await db.flush()
    return user


async def _new_account(db: AsyncSession, identity: Identity) -> User:
    email = identity.email
    if email and await db.scalar(select(User.id).where(User.email == email)) is not None:
        email = None  # that address has its own account: not taken over by a sign-in
    user = User(email=email, display_name=identity.public_name(), password_hash=None)
    db.add(user)
    await db.flush()
    return user
