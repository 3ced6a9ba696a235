"""OAuth2 password flow: a user name and password in, a bearer JWT out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, Field

from headway.domain.users import Role
from headway.entrypoints.api.context import Ctx, Unauthorized
from headway.entrypoints.api.schemas import TokenOut
from headway.services.identity import BadCredentials, UserExists

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


class SignUpIn(BaseModel):
    username: str = Field(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9._@+-]+$")
    password: str = Field(min_length=10, max_length=256)


@router.post("/passengers", status_code=status.HTTP_201_CREATED, operation_id="signUpPassenger")
def sign_up_passenger(ctx: Ctx, body: SignUpIn) -> TokenOut:
    """Create a passenger account and sign in: the passenger app's first call."""
    if not ctx.passenger_signup:
        raise HTTPException(403, "this deployment does not take sign-ups; ask the operator")
    try:
        user = ctx.identity.sign_up(body.username, body.password, Role.PASSENGER)
    except UserExists as exc:
        raise HTTPException(409, str(exc)) from None
    token = ctx.identity.issue(user.username, user.role)
    return TokenOut(access_token=token, expires_in=ctx.identity.ttl_s, role=user.role.value)
