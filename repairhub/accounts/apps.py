from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "repairhub.accounts"
    label = "accounts"
    verbose_name = _("用户与班组")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from .models import ApiToken, RoleGrant, User
        from .services import TOKENS

        # Any change to who a token belongs to, or what that person may do, drops what this
        # process remembers of tokens (lib/localcache.py).
        for model in (ApiToken, User, RoleGrant):
            post_save.connect(TOKENS.clear, sender=model, dispatch_uid=f"tokens-{model.__name__}")
            post_delete.connect(
                TOKENS.clear, sender=model, dispatch_uid=f"tokens-{model.__name__}-d"
            )
