"""Users and teams, read-only through the API: who may own a record."""

from __future__ import annotations

from typing import Any

from ninja import Router, Schema

from guanxi.core.http import ApiRequest
from guanxi.core.permissions import role_rules
from guanxi.users import selectors

router = Router(tags=["users"])


class TeamOut(Schema):
    id: int
    name: str
    description: str


class UserOut(Schema):
    id: int
    username: str
    full_name: str
    role: str
    team: TeamOut | None
    is_active: bool


class MeOut(UserOut):
    scope: str
    sees_personal_data: bool
    permissions: list[str]

    @staticmethod
    def resolve_scope(obj: Any) -> str:
        return str(role_rules(obj)["scope"])

    @staticmethod
    def resolve_sees_personal_data(obj: Any) -> bool:
        return bool(role_rules(obj)["pii"])

    @staticmethod
    def resolve_permissions(obj: Any) -> list[str]:
        return sorted(role_rules(obj)["perms"])


@router.get("/me", response=MeOut, summary="The user behind this request, with role, scope and permissions")
def me(request: ApiRequest) -> Any:
    return request.auth


@router.get("/users", response=list[UserOut], summary="Active users")
def user_list(request: ApiRequest) -> Any:
    return selectors.user_list(actor=request.auth)


@router.get("/users/{user_id}", response=UserOut, summary="One user")
def user_get(request: ApiRequest, user_id: int) -> Any:
    return selectors.user_get(actor=request.auth, user_id=user_id)


@router.get("/teams", response=list[TeamOut], summary="Teams")
def team_list(request: ApiRequest) -> Any:
    return selectors.team_list(actor=request.auth)
