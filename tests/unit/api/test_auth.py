"""Every operator endpoint refuses a missing, bad, expired or too-weak token."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.routing import APIRoute

from headway.domain.users import Role
from headway.entrypoints.api.app import ROUTERS
from tests.unit.api.conftest import Api


def _required_role(dependant: Any) -> Role | None:
    for dep in dependant.dependencies:
        role = getattr(dep.call, "required_role", None)
        if role is not None:
            return role  # type: ignore[no-any-return]
        found = _required_role(dep)
        if found is not None:
            return found
    return None


def protected_routes() -> list[tuple[str, str, Role]]:
    found = []
    for route in (r for router in ROUTERS for r in router.routes):
        if isinstance(route, APIRoute):
            role = _required_role(route.dependant)
            if role is not None:
                for method in route.methods:
                    path = route.path.replace("{vehicle_id}", "v1")
                    found.append((method, path, role))
    return sorted(found)


ROUTES = protected_routes()


def test_the_protected_routes_are_the_fleet_routes() -> None:
    paths = {(m, p) for m, p, _ in ROUTES}
    assert ("GET", "/api/v1/vehicles") in paths
    assert ("GET", "/api/v1/vehicles/v1") in paths
    assert ("GET", "/api/v1/vehicles/v1/track") in paths
    assert ("GET", "/api/v1/alerts") in paths
    assert ("GET", "/api/v1/dead-letters") in paths
    assert ("POST", "/api/v1/vehicles") in paths


@pytest.mark.parametrize(("method", "path", "role"), ROUTES)
async def test_refuses_no_bad_expired_and_weak_tokens(
    api: Api, method: str, path: str, role: Role
) -> None:
    async def call(headers: dict[str, str]) -> int:
        response = await api.client.request(method, path, headers=headers, json={})
        if response.status_code in (401, 403):
            assert response.headers["content-type"].startswith("application/problem+json")
        return response.status_code

    assert await call({}) == 401
    assert await call({"Authorization": "Bearer not.a.jwt"}) == 401
    assert await call({"Authorization": "Basic b3BzOnB3"}) == 401
    forged = api.token(Role.ADMIN)[:-4] + "AAAA"
    assert await call({"Authorization": f"Bearer {forged}"}) == 401
    expired = api.token(Role.ADMIN, ttl_s=60)
    api.clock.now += 61
    assert await call({"Authorization": f"Bearer {expired}"}) == 401
    if role is not Role.PASSENGER:
        assert await call(api.auth(Role.PASSENGER)) == 403
    assert await call(api.auth(Role.VEHICLE)) == 403
    if role is Role.ADMIN:
        assert await call(api.auth(Role.OPERATOR)) == 403
    assert await call(api.auth(Role.ADMIN)) not in (401, 403)


async def test_login_issues_a_token_with_the_users_role(api: Api) -> None:
    response = await api.client.post(
        "/api/v1/auth/token", data={"username": "ops", "password": "correct horse battery"}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["role"] == "operator"
    assert body["token_type"] == "bearer"
    listed = await api.client.get(
        "/api/v1/vehicles", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert listed.status_code == 200


@pytest.mark.parametrize(
    ("username", "password"),
    [("ops", "wrong"), ("nobody", "correct horse battery"), ("", "")],
)
async def test_login_refuses_wrong_credentials(api: Api, username: str, password: str) -> None:
    response = await api.client.post(
        "/api/v1/auth/token", data={"username": username, "password": password}
    )
    assert response.status_code in (401, 422)
    assert "access_token" not in response.text


def test_passwords_are_stored_as_argon2id_hashes(api: Api) -> None:
    user = api.ctx.identity._users.get("ops")  # type: ignore[attr-defined]
    assert user is not None
    assert user.password_hash.startswith("$argon2id$")
    assert "correct horse" not in user.password_hash
