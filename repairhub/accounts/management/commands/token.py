"""`repairhub token create USERNAME [--name NAME]`: issue an API token for a person or partner.

The secret is printed once, as the last line of the output, so scripts can take it with
`| tail -n 1`; only its digest is stored.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from repairhub.accounts.models import User
from repairhub.accounts.services import issue_token


class Command(BaseCommand):
    help = "Manage API tokens (/api/v1): `token create USERNAME [--name NAME]`."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="verb", required=True)
        create = sub.add_parser("create", help="Issue a token for USERNAME; prints the secret.")
        create.add_argument("username")
        create.add_argument("--name", default="", help="What the token is for (a label).")

    def handle(self, *args, verb: str, **options):
        if verb == "create":
            return self.create(options["username"], name=options["name"])
        raise CommandError(_("未知的子命令：%(verb)s。") % {"verb": verb})  # pragma: no cover

    def create(self, username: str, *, name: str) -> None:
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(
                _("用户“%(username)s”不存在，请先创建该用户。") % {"username": username}
            )
        if not user.is_active:
            raise CommandError(
                _("用户“%(username)s”已停用，不能签发令牌。") % {"username": username}
            )
        secret = issue_token(user, name=name[:60])
        self.stdout.write(
            _("已为 %(username)s 签发接口令牌。令牌只显示这一次，请妥善保存：")
            % {"username": username}
        )
        self.stdout.write(secret)
