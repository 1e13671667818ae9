"""OpenAPI description of the feed key authentication (loaded by FeedsConfig.ready)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class FeedKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "feeds.auth.FeedKeyAuthentication"
    name = "feedKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "每个数据来源的推送密钥：Authorization: Bearer <密钥>（在系统管理中生成）。",
        }
