from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntakeConfig(AppConfig):
    name = "repairhub.intake"
    label = "intake"
    verbose_name = _("报修受理")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from repairhub.places.models import Place
        from repairhub.workorders.models import Category

        from .services import CATEGORIES, PLACES

        for model, cache in ((Category, CATEGORIES), (Place, PLACES)):
            post_save.connect(cache.clear, sender=model, dispatch_uid=f"intake-{model.__name__}")
            post_delete.connect(
                cache.clear, sender=model, dispatch_uid=f"intake-{model.__name__}-d"
            )
