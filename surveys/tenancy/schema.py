"""OpenAPI descriptions of our authentication classes (drf-spectacular extensions).

Imported once at start-up (VocsiteConfig.ready) so the schema names the secret key and the staff
session as security schemes (the widget's public key: vocsite.json_api_schema).
"""

from drf_spectacular import openapi
from drf_spectacular.extensions import OpenApiAuthenticationExtension


class SecretKeyScheme(OpenApiAuthenticationExtension):
    target_class = "surveys.tenancy.api_auth.SecretKeyAuthentication"
    name = "secretKey"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "A project secret key (sk_…)."}


class StaffSessionScheme(OpenApiAuthenticationExtension):
    target_class = "surveys.tenancy.api_auth.StaffSessionAuthentication"
    name = "staffSession"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": "sessionid"}


class AutoSchema(openapi.AutoSchema):
    """Name nested `InputSerializer` / `OutputSerializer` classes after the view that owns
    them (`SurveyListCreateApi.InputSerializer` → `SurveyListCreateApiInput`), so one-view-per-operation with nested
    serializers (CONVENTIONS.md) never produces colliding component names."""

    def get_serializer_name(self, serializer, direction):
        cls = serializer.__class__
        qualname = cls.__qualname__
        if "." in qualname:
            return qualname.replace(".", "").replace("Serializer", "")
        return super().get_serializer_name(serializer, direction)
