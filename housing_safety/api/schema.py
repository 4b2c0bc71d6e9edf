"""How drf-spectacular describes our key authentication in the OpenAPI document."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


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
