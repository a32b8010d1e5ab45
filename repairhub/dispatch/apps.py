from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DispatchConfig(AppConfig):
    name = "repairhub.dispatch"
    label = "dispatch"
    verbose_name = _("派工")

    def ready(self) -> None:
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from repairhub.accounts.models import RoleGrant, User
        from repairhub.places.models import Place

        from . import texts
        from .models import Skill, TechnicianProfile
        from .services import bump_roster

        texts.register_all()

        # Any edit of who can do what, where and when drops this process's roster; a place's
        # edit too (its coordinates are kept with the roster, its path is a zone's).
        for model in (TechnicianProfile, Skill, User, RoleGrant, Place):
            uid = f"roster-{model.__name__}"
            post_save.connect(bump_roster, sender=model, dispatch_uid=uid)
            post_delete.connect(bump_roster, sender=model, dispatch_uid=f"{uid}-d")
        m2m_changed.connect(
            bump_roster, sender=TechnicianProfile.zones.through, dispatch_uid="roster-zones"
        )
