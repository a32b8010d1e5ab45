"""The /api/v1 NinjaAPI: one instance, its routers, its auth default and its error shape."""

from __future__ import annotations

from ninja import NinjaAPI

from . import errors
from .analytics import router as analytics_router
from .auth import REQUIRED
from .catalogue import router as catalogue_router
from .changes import router as changes_router
from .dispatch import router as dispatch_router
from .docs import LocalSwagger
from .feedback import router as feedback_router
from .forecast import router as forecast_router
from .notifications import router as notifications_router
from .orders import router as orders_router
from .positions import router as positions_router
from .reports import router as reports_router

api = NinjaAPI(
    title="RepairHub API",
    version="1",
    description="报修云 JSON 接口。认证：Authorization: Bearer <令牌>，或浏览器会话（需 CSRF）。"
    "说明文档见 docs/api.md。",
    urls_namespace="api-v1",
    auth=REQUIRED,
    docs=LocalSwagger(),
)
errors.install(api)
api.add_router("", orders_router)
api.add_router("", catalogue_router)
api.add_router("", dispatch_router)
api.add_router("", changes_router)
api.add_router("", positions_router)
api.add_router("", notifications_router)
api.add_router("", analytics_router)
api.add_router("", forecast_router)
api.add_router("", feedback_router)
api.add_router("", reports_router)
