"""Single sign-on with OpenID Connect, and the people it lets in.

The flow is the authorization code flow with PKCE (S256): ``oidc_begin`` keeps a fresh ``state``,
``nonce`` and code verifier in the browser's session and returns the provider's authorization URL;
``oidc_complete`` takes the callback's ``state`` (one use, ten minutes), exchanges the code with the
verifier, and verifies the ID token: its signature against the provider's published keys (JWKS,
fetched again once when a token names a key we have not seen: key rotation), ``iss`` equal to the
configured issuer, ``aud`` containing our client id, ``exp``/``iat`` against ``core.clock`` with a
minute's leeway, ``nonce`` equal to the one we sent, ``azp`` and ``at_hash`` when present. Endpoints
come from the issuer's ``/.well-known/openid-configuration``, whose ``issuer`` must be the
configured one (OpenID Connect Discovery 1.0 §4.3: a mix-up otherwise).

Authlib does the protocol pieces (the authorization URL with the S256 challenge, the token request
with client authentication, OpenID's ID-token claim rules in ``CodeIDToken``) and joserfc, its JOSE
library, checks signatures. We call them directly rather than through Authlib's Django client
because that one keeps its state under its own keys, validates ``exp`` against the wall clock (our
tests move ``core.clock``), and does not check ``aud`` unless asked to.

``oidc_person_provision`` is the service behind a verified sign-in: the role comes from the groups
claim through the group → role mapping (the org role-mapping file format); a first sign-in creates
the person (just in time), later ones update the role; someone with no mapped group is refused,
nothing created, and a person linked earlier is deactivated (their groups no longer give them a
role; an operator reactivates). One person holds one role: when several groups map, the first in
the mapping's order wins. ``docs/sso.md`` is the user's page.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import requests
import yaml
from authlib.common.errors import AuthlibBaseError
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from authlib.oidc.core import CodeIDToken
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from joserfc import jwt
from joserfc.errors import ClaimError, ExpiredTokenError, JoseError
from joserfc.jwk import KeySet
from joserfc.jws import extract_compact

from detente.access.models import OidcIdentity
from detente.audit.services import audit_record
from detente.core import clock
from detente.core.errors import DetenteError, InputError, PermissionDenied
from detente.people.models import Person, Role, roles_checked
from detente.people.services import person_roles_write

LEEWAY_SECONDS = 60
PENDING_KEY = "oidc_pending"  # session key: state → what the callback needs
PENDING_SECONDS = 600  # a sign-in left at the provider's page longer than this starts again
PENDING_MAX = 5  # sign-ins started at once in one browser (tabs) that are kept
METADATA_SECONDS = 3600  # discovery document and keys are fetched again after an hour


class SsoError(DetenteError):
    """A sign-in through the identity provider that cannot be trusted: bad state, an invalid
    token, a provider that refuses. The sign-in page shows the message; nothing is written."""

    http_status = 400
    code = "sso_failed"


class SsoUnavailable(SsoError):
    """The identity provider did not answer, or answered nonsense."""

    http_status = 502
    code = "sso_unavailable"


class SsoRefused(PermissionDenied):
    """Signed in at the provider, but not let into Détente (deactivated here)."""


class NoRole(SsoRefused):
    """Signed in at the provider, but none of the person's groups maps to a Détente role."""


# ------------------------------------------------------------------------------ configuration


@dataclass(frozen=True)
class OidcConfig:
    issuer: str
    client_id: str
    client_secret: str
    scopes: str
    groups_claim: str
    roles: tuple[tuple[str, str], ...]  # (group, role) in precedence order
    provider_name: str
    timeout: float
    redirect_uri: str  # empty: built from the request
    post_logout_redirect_uri: str = ""  # empty: built from the request
    groups_url: str = ""  # Graph-style getMemberObjects, for a group overage; empty: refuse

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer.rstrip('/')}/.well-known/openid-configuration"


def sso_enabled() -> bool:
    return bool(settings.DETENTE_OIDC_ISSUER.strip())


def password_signin_enabled() -> bool:
    """Password sign-in can be switched off only when single sign-on is on (someone must be
    able to sign in)."""
    return bool(settings.DETENTE_PASSWORD_SIGNIN) or not sso_enabled()


def provider_name() -> str:
    return str(settings.DETENTE_OIDC_PROVIDER_NAME)


def oidc_config() -> OidcConfig:
    """The settings, checked; an incomplete set-up is an ``InputError`` naming the setting."""
    issuer = settings.DETENTE_OIDC_ISSUER.strip()
    if not issuer:
        raise InputError("single sign-on is off", field="DETENTE_OIDC_ISSUER")
    if not issuer.startswith(("https://", "http://127.0.0.1", "http://localhost")):
        raise InputError(
            f"the issuer must be an https:// URL (got {issuer!r})", field="DETENTE_OIDC_ISSUER"
        )
    for name in ("DETENTE_OIDC_CLIENT_ID", "DETENTE_OIDC_CLIENT_SECRET"):
        if not str(getattr(settings, name)).strip():
            raise InputError("is not set", field=name)
    scopes = settings.DETENTE_OIDC_SCOPES.split()
    if "openid" not in scopes:
        raise InputError("the scopes must include 'openid'", field="DETENTE_OIDC_SCOPES")
    return OidcConfig(
        issuer=issuer,
        client_id=settings.DETENTE_OIDC_CLIENT_ID.strip(),
        client_secret=settings.DETENTE_OIDC_CLIENT_SECRET.strip(),
        scopes=" ".join(scopes),
        groups_claim=settings.DETENTE_OIDC_GROUPS_CLAIM.strip() or "groups",
        roles=group_roles(
            inline=settings.DETENTE_OIDC_GROUP_ROLES, file=settings.DETENTE_OIDC_GROUP_ROLES_FILE
        ),
        provider_name=provider_name(),
        timeout=float(settings.DETENTE_OIDC_TIMEOUT_SECONDS),
        redirect_uri=settings.DETENTE_OIDC_REDIRECT_URI.strip(),
        post_logout_redirect_uri=settings.DETENTE_OIDC_POST_LOGOUT_REDIRECT_URI.strip(),
        groups_url=settings.DETENTE_OIDC_GROUPS_URL.strip(),
    )


def group_roles(*, inline: str, file: str) -> tuple[tuple[str, str], ...]:
    """The group → role mapping, from a JSON object in the environment or from a YAML file in the
    organisation's role-mapping format (``roles: {group: role}``; its ``default_role`` is for
    catalog imports and is not used here: single sign-on lets mapped people in only)."""
    if inline.strip() and file.strip():
        raise InputError(
            "set DETENTE_OIDC_GROUP_ROLES or DETENTE_OIDC_GROUP_ROLES_FILE, not both",
            field="DETENTE_OIDC_GROUP_ROLES",
        )
    source, field = (file.strip(), "DETENTE_OIDC_GROUP_ROLES_FILE")
    if file.strip():
        try:
            data = yaml.safe_load(Path(source).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise InputError(f"cannot read: {exc}", file=source) from None
        if not isinstance(data, dict) or not set(data) <= {"roles", "default_role"}:
            raise InputError("a role mapping has 'roles' (group: role)", file=source)
        mapping = data.get("roles") or {}
    elif inline.strip():
        source, field = "DETENTE_OIDC_GROUP_ROLES", "DETENTE_OIDC_GROUP_ROLES"
        try:
            mapping = json.loads(inline)
        except ValueError:
            mapping = None
    else:
        raise InputError(
            "no group → role mapping: set it (JSON) or DETENTE_OIDC_GROUP_ROLES_FILE",
            field="DETENTE_OIDC_GROUP_ROLES",
        )
    if not isinstance(mapping, dict) or not mapping:
        example = '{"detente-ciso": "ciso"}'
        raise InputError(f"give an object of group: role, e.g. {example}", field=field)
    for group, role in mapping.items():
        if role not in Role.values:
            raise InputError(
                f"no role {role!r} (roles: {', '.join(Role.values)})", file=source,
                record=str(group),
            )  # fmt: skip
    return tuple((str(group), str(role)) for group, role in mapping.items())


def roles_for(roles: Sequence[tuple[str, str]], groups: Sequence[str]) -> tuple[Role, ...]:
    """The roles of every mapped group the person is in, in the mapping's order: the first is the
    primary role (it chooses the home page); none when no group is mapped."""
    held = set(groups)
    out: list[Role] = []
    for group, role in roles:
        if group in held and Role(role) not in out:
            out.append(Role(role))
    return tuple(out)


# ------------------------------------------------------------------------------ the provider


@dataclass(frozen=True)
class _Provider:
    metadata: dict[str, Any]
    keys: dict[str, Any]
    fetched_at: float


_providers: dict[str, _Provider] = {}


def _get_json(url: str, timeout: float) -> dict[str, Any]:
    try:
        response = requests.get(url, timeout=timeout, headers={"Accept": "application/json"})
        response.raise_for_status()
        data = response.json()
    except requests.RequestException as exc:
        raise SsoUnavailable(
            f"the identity provider did not answer at {url} ({type(exc).__name__})"
        ) from None
    except ValueError:
        raise SsoUnavailable(f"the identity provider's answer at {url} is not JSON") from None
    if not isinstance(data, dict):
        raise SsoUnavailable(f"the identity provider's answer at {url} is not a JSON object")
    return data


def _provider(cfg: OidcConfig, *, fresh: bool = False) -> _Provider:
    cached = _providers.get(cfg.discovery_url)
    if cached is not None and not fresh and time.monotonic() - cached.fetched_at < METADATA_SECONDS:
        return cached
    metadata = _get_json(cfg.discovery_url, cfg.timeout)
    if metadata.get("issuer") != cfg.issuer:
        raise SsoError(
            f"the provider at {cfg.discovery_url} names itself {metadata.get('issuer')!r}, "
            f"not the configured issuer {cfg.issuer!r}"
        )
    for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        if not isinstance(metadata.get(key), str):
            raise SsoUnavailable(f"the provider's discovery document has no {key}")
    keys = _get_json(metadata["jwks_uri"], cfg.timeout)
    provider = _Provider(metadata, keys, time.monotonic())
    _providers[cfg.discovery_url] = provider
    return provider


def _session(cfg: OidcConfig, redirect_uri: str) -> OAuth2Session:
    return OAuth2Session(
        cfg.client_id, cfg.client_secret, scope=cfg.scopes, redirect_uri=redirect_uri,
        code_challenge_method="S256", default_timeout=cfg.timeout,
    )  # fmt: skip


# ------------------------------------------------------------------------------ the flow


def oidc_begin(
    *, cfg: OidcConfig, session: MutableMapping[str, Any], redirect_uri: str, next_url: str
) -> str:
    """Remember a new sign-in in the browser's session; return the provider's URL to go to."""
    provider = _provider(cfg)
    verifier, nonce = generate_token(48), generate_token(24)
    url, state = _session(cfg, redirect_uri).create_authorization_url(
        provider.metadata["authorization_endpoint"], code_verifier=verifier, nonce=nonce
    )
    now = time.time()  # the session's own bookkeeping; token times are checked on core.clock
    pending = {
        key: value
        for key, value in dict(session.get(PENDING_KEY) or {}).items()
        if isinstance(value, dict) and value.get("expires", 0) > now
    }
    pending[state] = {
        "nonce": nonce, "verifier": verifier, "redirect_uri": redirect_uri, "next": next_url,
        "expires": now + PENDING_SECONDS,
    }  # fmt: skip
    session[PENDING_KEY] = dict(list(pending.items())[-PENDING_MAX:])
    return str(url)


@dataclass(frozen=True)
class SignIn:
    """A verified sign-in: who the provider says this is."""

    issuer: str
    subject: str
    email: str
    name: str
    groups: tuple[str, ...]
    next_url: str
    id_token: str = ""  # kept in the session for single logout (``id_token_hint``)


def oidc_complete(
    *, cfg: OidcConfig, session: MutableMapping[str, Any], params: Mapping[str, str]
) -> SignIn:
    """Check the callback against the session, exchange the code, verify the ID token."""
    if error := params.get("error"):
        detail = params.get("error_description") or ""
        raise SsoError(f"the identity provider refused the sign-in: {error} {detail}".strip())
    state = params.get("state") or ""
    pending = dict(session.get(PENDING_KEY) or {})
    entry = pending.pop(state, None) if state else None
    session[PENDING_KEY] = pending  # a state is used once, whatever happens next
    if not isinstance(entry, dict) or entry.get("expires", 0) <= time.time():
        raise SsoError(
            "this sign-in was not started from this browser, or took too long, or was "
            "tampered with (the state does not match): sign in again"
        )
    code = params.get("code") or ""
    if not code:
        raise SsoError("the identity provider sent no authorization code")
    provider = _provider(cfg)
    try:
        token = _session(cfg, entry["redirect_uri"]).fetch_token(
            provider.metadata["token_endpoint"], code=code, code_verifier=entry["verifier"],
            grant_type="authorization_code",
        )  # fmt: skip
    except requests.RequestException as exc:
        raise SsoUnavailable(
            f"the identity provider's token endpoint did not answer ({type(exc).__name__})"
        ) from None
    except AuthlibBaseError as exc:
        raise SsoError(f"the identity provider refused the code: {exc.error}") from None
    id_token = token.get("id_token")
    if not isinstance(id_token, str):
        raise SsoError("the identity provider sent no ID token (is 'openid' among the scopes?)")
    claims = verify_id_token(
        cfg, id_token=id_token, nonce=entry["nonce"], access_token=token.get("access_token")
    )
    access_token = token.get("access_token")
    if _lacks_profile(cfg, claims) and isinstance(access_token, str):
        claims = _with_userinfo(cfg, provider, claims, access_token)
    if _group_overage(cfg, claims):
        claims = {**claims, cfg.groups_claim: _overage_groups(cfg, access_token)}
    sign_in = _sign_in(cfg, claims, next_url=str(entry.get("next") or ""))
    return replace(sign_in, id_token=id_token)


def _group_overage(cfg: OidcConfig, claims: Mapping[str, Any]) -> bool:
    """The token names a source for the groups instead of listing them: Entra ID does this when a
    person is in more groups than a token holds (``_claim_names``/``_claim_sources``, OpenID
    Connect Core §5.6.2 distributed claims; ``hasgroups`` in the implicit flow)."""
    if cfg.groups_claim in claims:
        return False
    names = claims.get("_claim_names")
    return bool(claims.get("hasgroups")) or (isinstance(names, dict) and cfg.groups_claim in names)


def _overage_groups(cfg: OidcConfig, access_token: object) -> list[str]:
    """Every group the person is in, from the configured Graph-style endpoint
    (``POST …/me/getMemberObjects`` with the sign-in's access token; ``@odata.nextLink`` pages
    followed). Refused, clearly, when no endpoint is set or it does not answer: signing someone
    in with a partial group list could give the wrong roles."""
    if not cfg.groups_url:
        raise SsoError(
            "the identity provider left your groups out of the token (too many groups) and no "
            "groups endpoint is configured (DETENTE_OIDC_GROUPS_URL); ask your administrator"
        )
    if not isinstance(access_token, str):
        raise SsoError("the identity provider sent no access token to read your groups with")
    headers = {"Authorization": f"Bearer {access_token}", "Accept": "application/json"}
    groups: list[str] = []
    url: str | None = cfg.groups_url
    for _ in range(100):  # pages; a bound so a looping nextLink cannot hold the sign-in
        if url is None:
            return groups
        try:
            response = (
                requests.post(url, json={"securityEnabledOnly": False}, headers=headers,
                              timeout=cfg.timeout)
                if url == cfg.groups_url
                else requests.get(url, headers=headers, timeout=cfg.timeout)
            )  # fmt: skip
            response.raise_for_status()
            page = response.json()
        except requests.RequestException as exc:
            raise SsoUnavailable(
                f"the groups endpoint did not answer at {cfg.groups_url} ({type(exc).__name__})"
            ) from None
        except ValueError:
            raise SsoUnavailable("the groups endpoint's answer is not JSON") from None
        values = page.get("value") if isinstance(page, dict) else None
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise SsoUnavailable("the groups endpoint's answer has no list of groups ('value')")
        groups += values
        link = page.get("@odata.nextLink")
        url = link if isinstance(link, str) and link else None
    raise SsoUnavailable("the groups endpoint kept sending more pages")


def oidc_logout_url(*, cfg: OidcConfig, id_token: str, post_logout_redirect_uri: str) -> str:
    """Where to send the browser to end the session at the provider too (RP-initiated logout:
    ``end_session_endpoint`` with ``id_token_hint``, ``client_id`` and
    ``post_logout_redirect_uri``); "" when the provider offers no such endpoint or cannot be
    reached (the Détente session ends anyway)."""
    try:
        endpoint = _provider(cfg).metadata.get("end_session_endpoint")
    except SsoError:
        return ""
    if not isinstance(endpoint, str) or not endpoint.startswith(("https://", "http://")):
        return ""
    query = urlencode(
        {"id_token_hint": id_token, "client_id": cfg.client_id,
         "post_logout_redirect_uri": post_logout_redirect_uri}
    )  # fmt: skip
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"


def verify_id_token(
    cfg: OidcConfig, *, id_token: str, nonce: str, access_token: str | None = None
) -> dict[str, Any]:
    """The ID token's claims once its signature and claims check out; else ``SsoError``."""
    provider = _provider(cfg)
    try:
        header = extract_compact(id_token.encode()).protected
    except (JoseError, ValueError):
        raise SsoError("the ID token is not a signed JWT") from None
    known = {key.get("kid") for key in provider.keys.get("keys", []) if isinstance(key, dict)}
    if header.get("kid") not in known:  # the provider may have rotated its keys
        provider = _provider(cfg, fresh=True)
    algorithms = [
        alg
        for alg in provider.metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
        if alg != "none" and not str(alg).startswith("HS")  # asymmetric signatures only
    ]
    try:
        decoded = jwt.decode(id_token, KeySet.import_key_set(provider.keys), algorithms)  # type: ignore[arg-type]
    except (JoseError, ValueError):
        raise SsoError(
            "the ID token's signature does not verify against the provider's keys"
        ) from None
    claims = CodeIDToken(
        decoded.claims,
        decoded.header,
        {
            "iss": {"essential": True, "value": cfg.issuer},
            "aud": {"essential": True, "value": cfg.client_id},
            "sub": {"essential": True},
            "exp": {"essential": True},
        },
        {"nonce": nonce, "client_id": cfg.client_id, "access_token": access_token},
    )
    try:
        claims.validate(now=int(clock.now().timestamp()), leeway=LEEWAY_SECONDS)
    except ExpiredTokenError:
        raise SsoError("the ID token has expired") from None
    except ClaimError as exc:
        claim = getattr(exc, "claim", "") or str(exc)
        raise SsoError(f"the ID token's {claim!r} claim is not valid for this sign-in") from None
    except JoseError as exc:
        raise SsoError(f"the ID token is not valid ({exc.error})") from None
    return dict(claims)


def _lacks_profile(cfg: OidcConfig, claims: Mapping[str, Any]) -> bool:
    return "email" not in claims or cfg.groups_claim not in claims


def _with_userinfo(
    cfg: OidcConfig, provider: _Provider, claims: dict[str, Any], access_token: str
) -> dict[str, Any]:
    """Providers that keep the ID token small (``oidc-provider``'s default, Okta without a groups
    claim on the token) give e-mail and groups at the userinfo endpoint; its ``sub`` must be the
    ID token's (OpenID Connect Core §5.3.2)."""
    endpoint = provider.metadata.get("userinfo_endpoint")
    if not isinstance(endpoint, str):
        return claims
    try:
        response = requests.get(
            endpoint, timeout=cfg.timeout, headers={"Authorization": f"Bearer {access_token}"}
        )
        response.raise_for_status()
        info = response.json()
    except requests.RequestException as exc:
        raise SsoUnavailable(
            f"the identity provider's userinfo endpoint did not answer ({type(exc).__name__})"
        ) from None
    except ValueError:
        raise SsoUnavailable("the identity provider's userinfo answer is not JSON") from None
    if not isinstance(info, dict) or info.get("sub") != claims.get("sub"):
        raise SsoError("the userinfo answer is about someone else than the ID token")
    return {**info, **claims}


def _sign_in(cfg: OidcConfig, claims: Mapping[str, Any], *, next_url: str) -> SignIn:
    email = claims.get("email")
    if not isinstance(email, str) or "@" not in email:
        raise SsoError("the identity provider sent no e-mail address (add the 'email' scope)")
    if claims.get("email_verified") is False:
        raise SsoError(f"the identity provider has not verified the e-mail address {email}")
    raw_groups = claims.get(cfg.groups_claim) or []
    if isinstance(raw_groups, str):
        raw_groups = [raw_groups]
    if not isinstance(raw_groups, list):
        raise SsoError(f"the {cfg.groups_claim!r} claim is not a list of groups")
    name = claims.get("name")
    return SignIn(
        issuer=cfg.issuer,
        subject=str(claims["sub"]),
        email=email.strip().lower(),
        name=name.strip() if isinstance(name, str) and name.strip() else email.split("@")[0],
        groups=tuple(str(group) for group in raw_groups),
        next_url=next_url,
    )


# ------------------------------------------------------------------------------ provisioning


def oidc_person_provision(*, cfg: OidcConfig, sign_in: SignIn) -> Person:
    """The person behind a verified sign-in, created or updated from the groups; ``NoRole`` when
    none of the groups is mapped (audited; a person linked before is deactivated)."""
    roles = roles_for(cfg.roles, sign_in.groups)
    label = f"single sign-on ({sign_in.issuer})"
    refused: DetenteError | None = None
    with transaction.atomic():
        identity = (
            OidcIdentity.objects.select_for_update()
            .select_related("person")
            .filter(issuer=sign_in.issuer, subject=sign_in.subject)
            .first()
        )
        person = (
            identity.person
            if identity is not None
            else Person.objects.select_for_update().filter(email=sign_in.email).first()
        )
        if identity is None and person is not None:
            other = OidcIdentity.objects.filter(person=person, issuer=sign_in.issuer).first()
            if other is not None:  # the e-mail moved to someone else at the provider
                raise SsoError(
                    f"{sign_in.email} is linked to another identity at the provider; "
                    "an operator must resolve it"
                )
        subject_id = person.pk if person is not None else "unknown"
        conflict = _roles_conflict(roles)
        if not roles:
            groups = ", ".join(sign_in.groups) or "none"
            refused = NoRole(
                f"you are signed in at {cfg.provider_name} as {sign_in.email}, but none of your "
                f"groups ({groups}) gives a role in Détente; ask your administrator"
            )
            audit_record(
                actor=None, actor_label=label, verb="access.signin_failed",
                subject_type="account", subject_id=subject_id,
                after={"reason": "sso_no_role", "groups": list(sign_in.groups)},
            )  # fmt: skip
            if identity is not None and person is not None and person.active:
                person.active = False
                person.save(update_fields=["active"])
                audit_record(
                    actor=None, actor_label=label, verb="person.deactivated",
                    subject_type="person", subject_id=person.pk,
                    before={"active": True, "role": person.role},
                    after={"active": False, "reason": "no mapped group at sign-in"},
                )  # fmt: skip
        elif conflict:
            refused = SsoRefused(
                f"your groups at {cfg.provider_name} give roles that are never held together "
                f"({conflict}); ask your administrator"
            )
            audit_record(
                actor=None, actor_label=label, verb="access.signin_failed",
                subject_type="account", subject_id=subject_id,
                after={"reason": "sso_roles_conflict", "groups": list(sign_in.groups)},
            )  # fmt: skip
        elif person is not None and not person.active:
            refused = SsoRefused(
                f"{sign_in.email} is deactivated in Détente; an operator reactivates people"
            )
            audit_record(
                actor=None, actor_label=label, verb="access.signin_failed",
                subject_type="account", subject_id=person.pk,
                after={"reason": "sso_inactive", "groups": list(sign_in.groups)},
            )  # fmt: skip
        else:
            person = _upsert(person=person, sign_in=sign_in, roles=roles, label=label)
            now = clock.now()
            if identity is None:
                identity = OidcIdentity.objects.create(
                    person=person, issuer=sign_in.issuer, subject=sign_in.subject,
                    created_at=now, last_signed_in_at=now,
                )  # fmt: skip
                audit_record(
                    actor=None, actor_label=label, verb="access.sso_linked",
                    subject_type="person", subject_id=person.pk,
                    after={"issuer": sign_in.issuer, "subject": sign_in.subject},
                )  # fmt: skip
            else:
                identity.last_signed_in_at = now
                identity.save(update_fields=["last_signed_in_at"])
    if refused is not None:  # raised after the commit: the refusal's audit events stay
        raise refused
    assert person is not None
    return person


def _roles_conflict(roles: Sequence[Role]) -> str:
    """Why these roles cannot be held together ("" when they can)."""
    if not roles:
        return ""
    try:
        roles_checked(roles[0], roles)
    except ValueError as exc:
        return str(exc)
    return ""


def _upsert(*, person: Person | None, sign_in: SignIn, roles: Sequence[Role], label: str) -> Person:
    """Create or update the person; their roles become exactly the mapped groups' roles (a group
    removed at the provider takes its role away at this sign-in)."""
    user_model = get_user_model()
    wanted = roles_checked(roles[0], roles)
    if person is None:
        person = Person.objects.create(name=sign_in.name, email=sign_in.email, role=wanted[0])
        person_roles_write(person=person, roles=wanted)
        audit_record(
            actor=None, actor_label=label, verb="person.created", subject_type="person",
            subject_id=person.pk,
            after={"name": person.name, "email": person.email, "role": wanted[0],
                   "roles": list(wanted), "groups": list(sign_in.groups)},
        )  # fmt: skip
    elif person.roles != wanted:
        before = list(person.roles)
        person_roles_write(person=person, roles=wanted)
        audit_record(
            actor=None, actor_label=label, verb="person.role_changed", subject_type="person",
            subject_id=person.pk, before={"role": before[0], "roles": before},
            after={"role": wanted[0], "roles": list(wanted), "groups": list(sign_in.groups)},
        )  # fmt: skip
    if person.user is None:
        user = user_model.objects.filter(username=person.email).first()
        if user is None:
            user = user_model(username=person.email, email=person.email)
            user.set_unusable_password()  # signs in through the provider only
            user.save()
        person.user = user
        person.save(update_fields=["user"])
    return person
