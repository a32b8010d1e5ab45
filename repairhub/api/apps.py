from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "repairhub.api"
    label = "api"
    verbose_name = "API"
