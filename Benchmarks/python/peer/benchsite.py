"""A one-file Django site around django-aws-api-gateway-websockets, as a user of the package sets
it up: its models on SQLite (WAL), its WebSocketView at ws/<route>, an `echo` handler that
replies through the @connections API with boto3 (the package's own client helper), signed, to
the benchmark's sink (BENCH_SINK) instead of AWS, and `echobody`, which answers in its response
(what API Gateway sends back on a two-way route).

    DJANGO_SETTINGS_MODULE=benchsite python -m django migrate
    DJANGO_SETTINGS_MODULE=benchsite gunicorn -w 2 benchsite:application
"""
import json
import os

from django.urls import path

BASE = os.environ.get("BENCH_DIR", os.path.dirname(os.path.abspath(__file__)))
SECRET_KEY = "benchmark-only"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", f"127.0.0.1:{os.environ.get('BENCH_PORT', '8000')}"]
ROOT_URLCONF = "benchsite"
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django_aws_api_gateway_websockets",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.path.join(BASE, "bench.sqlite3"),
        # WAL, and transactions that take the write lock at BEGIN (Django 5.1+): without IMMEDIATE,
        # the package's select_for_update in a deferred transaction fails "database is locked" under
        # two workers instead of waiting.
        "OPTIONS": {"init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", "timeout": 20, "transaction_mode": "IMMEDIATE"},
    }
}
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AWS_REGION_NAME = "us-east-1"
AWS_ACCESS_KEY_ID = "AKIDBENCH"
AWS_SECRET_ACCESS_KEY = "bench-secret"
# A failed event's exception on standard error (gunicorn.log), nothing else.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": True,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "loggers": {"django.request": {"handlers": ["stderr"], "level": "ERROR"}},
}

_client = None


def management_client():
    """One boto3 client per worker (the package's helper makes one per send_message call)."""
    global _client
    if _client is None:
        from django_aws_api_gateway_websockets.models import get_boto3_client

        _client = get_boto3_client("apigatewaymanagementapi", endpoint_url=os.environ["BENCH_SINK"] + "/local")
    return _client


_view = None


def bench_view():
    """The view, made on the first request (the package's models need the app registry ready)."""
    global _view
    if _view is not None:
        return _view
    from django.http import JsonResponse
    from django_aws_api_gateway_websockets.views import WebSocketView

    class BenchView(WebSocketView):
        # As close to ours as its switches allow: no one-time token, no connect rate limit.
        USE_WS_TOKEN = False
        RATE_LIMIT_ENABLED = False

        def echo(self, request, *args, **kwargs):
            management_client().post_to_connection(
                Data=json.dumps({"echo": self.body.get("text", "")}), ConnectionId=request.headers["Connectionid"]
            )

        def echobody(self, request, *args, **kwargs):
            # The package's two-way answer: the view's response is the frame API Gateway sends back.
            return JsonResponse({"echo": self.body.get("text", "")})

    _view = BenchView.as_view()
    return _view


urlpatterns = [path("ws/<slug:route>", lambda request, route: bench_view()(request, route=route))]

if os.environ.get("DJANGO_SETTINGS_MODULE") == "benchsite":
    from django.core.wsgi import get_wsgi_application

    application = get_wsgi_application()
