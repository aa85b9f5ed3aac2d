"""`guanxi token create|list|revoke`: API tokens from the command line.

The command line acts as the installer: there is no signed-in user, so each call acts as the token's own
user, and the audit log records it as coming from the command line.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from guanxi.core.context import origin
from guanxi.core.errors import DomainError
from guanxi.users import selectors, services
from guanxi.users.models import User


class Command(BaseCommand):
    help = "Create, list or revoke API tokens. `token create <username>` prints only the token on stdout."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="{create,list,revoke}")
        create = actions.add_parser("create", help="Create a token for a user and print it (once).")
        create.add_argument("username")
        create.add_argument("--name", default="CLI", help="What the token is for (default: CLI).")
        listing = actions.add_parser("list", help="List a user's tokens (never the secrets).")
        listing.add_argument("username")
        revoke = actions.add_parser("revoke", help="Revoke a token by the prefix shown in `token list`.")
        revoke.add_argument("prefix")

    def handle(self, *args: Any, **options: Any) -> None:
        with origin("cli"):
            if options["action"] == "create":
                self.create(self.user(options["username"]), options["name"])
            elif options["action"] == "list":
                self.list(self.user(options["username"]))
            else:
                self.revoke(options["prefix"])

    def user(self, username: str) -> User:
        try:
            return selectors.user_get_by_username(username=username)
        except DomainError as exc:
            raise CommandError(
                f"No user named {username!r}. Create it first (guanxi createsuperuser)."
            ) from exc

    def create(self, user: User, name: str) -> None:
        if not user.is_active:
            raise CommandError(f"User {user.username!r} is inactive; a token for it would not work.")
        try:
            token, secret = services.token_create(actor=user, user=user, name=name)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(secret)
        self.stderr.write(
            f"Token {token.prefix}… ({token.name}) created for {user.username}. It is shown only this once: "
            "keep it somewhere safe. Use it as the header 'Authorization: Bearer <token>'."
        )

    def list(self, user: User) -> None:
        tokens = list(selectors.token_list(actor=user, user=user))
        if not tokens:
            self.stderr.write(f"{user.username} has no API tokens.")
            return
        self.stdout.write(f"{'PREFIX':<12} {'STATUS':<8} {'CREATED':<17} {'LAST USED':<17} NAME")
        for token in tokens:
            status = "active" if token.is_active else "revoked"
            self.stdout.write(
                f"{token.prefix:<12} {status:<8} {_when(token.created_at):<17} "
                f"{_when(token.last_used_at):<17} {token.name}"
            )

    def revoke(self, prefix: str) -> None:
        tokens = [token for token in selectors.token_find_by_prefix(prefix=prefix) if token.is_active]
        if not tokens:
            raise CommandError(
                f"No active token with the prefix {prefix!r} (see `guanxi token list <username>`)."
            )
        if len(tokens) > 1:
            owners = ", ".join(sorted({token.user.username for token in tokens}))
            raise CommandError(
                f"{len(tokens)} active tokens share the prefix {prefix!r} ({owners}); none revoked."
            )
        token = tokens[0]
        services.token_revoke(actor=token.user, token=token)
        self.stderr.write(f"Token {token.prefix}… ({token.name}) of {token.user.username} revoked.")


def _when(moment: Any) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else "-"
