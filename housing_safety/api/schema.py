"""How drf-spectacular describes our API: its operations grouped by resource under the resource's Chinese name, and
our key and session authentication."""

from drf_spectacular import openapi
from drf_spectacular.extensions import OpenApiAuthenticationExtension

from .resources import RESOURCES


class AutoSchema(openapi.AutoSchema):
    """Each operation under its resource's name in the document's language (鉴定, 危房改造案件...), the names the keys'
    scopes use in the admin; the first path segment for the API's own pages."""

    def get_tags(self) -> list[str]:
        resource = getattr(self.view, "api_resource", None)
        return [str(RESOURCES[resource])] if resource in RESOURCES else super().get_tags()


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "housing_safety.api.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": (
                "系统调用：请求头 `Authorization: Api-Key <密钥>`（也接受 `Bearer <密钥>`）。"
                "密钥由住建局管理员在后台签发。"
            ),
        }


class SessionScheme(OpenApiAuthenticationExtension):
    target_class = "housing_safety.api.authentication.SessionAuthentication"
    name = "Session"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": "sessionid",
            "description": "人员调用（外业 App）：登录后的会话；写操作另带 `X-CSRFToken` 请求头。",
        }
