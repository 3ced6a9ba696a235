"""OAuth2 password flow: a user name and password in, a bearer JWT out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.security import OAuth2PasswordRequestForm

from headway.entrypoints.api.context import Ctx, Unauthorized
from headway.entrypoints.api.schemas import TokenOut
from headway.services.identity import BadCredentials

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


@router.post("/token", operation_id="login")
def login(ctx: Ctx, form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> TokenOut:
    try:
        user = ctx.identity.authenticate(form.username, form.password)
    except BadCredentials as exc:
        ctx.metrics.auth_failures.labels("bad_credentials").inc()
        raise Unauthorized(str(exc)) from None
    token = ctx.identity.issue(user.username, user.role)
    return TokenOut(access_token=token, expires_in=ctx.identity.ttl_s, role=user.role.value)
