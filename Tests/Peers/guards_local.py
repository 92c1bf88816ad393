"""Sets up on the local gateway, with boto3's apigatewayv2 and apigateway clients unmodified but
for endpoint_url, what API Gateway guards before the backend: a REQUEST authorizer, AWS_IAM on
$connect, an API key with a usage plan, route throttles and an access log; presigns an IAM
connect with botocore's SigV4QueryAuth. Prints what the test needs as JSON.

    python guards_local.py ENDPOINT ACCESS_KEY SECRET BACKEND_URL AUTHORIZER_FUNCTION_ARN
"""
import json
import sys

import boto3
from botocore.auth import SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

endpoint, key, secret, backend, function_arn = sys.argv[1:6]
session = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=key, aws_secret_access_key=secret)
v2 = boto3.client("apigatewayv2", **session)
v1 = boto3.client("apigateway", **session)

mapping = {
    "integration.request.header.connectionId": "context.connectionId",
    "integration.request.header.X-Apigw-Principal": "context.authorizer.principalId",
    "integration.request.header.X-Tenant": "context.authorizer.tenant",
    "integration.request.header.X-Api-Key-Id": "context.identity.apiKeyId",
    "integration.request.header.X-Caller": "context.identity.userArn",
}


def routes(api_id, connect_auth):
    for route_key, path in [("$connect", "connect"), ("$disconnect", "disconnect"), ("$default", "default")]:
        integration = v2.create_integration(ApiId=api_id, IntegrationType="HTTP_PROXY", IntegrationMethod="POST",
                                            IntegrationUri=f"{backend}/ws/{path}", RequestParameters=mapping)
        extra = connect_auth if route_key == "$connect" else {}
        v2.create_route(ApiId=api_id, RouteKey=route_key, Target=f"integrations/{integration['IntegrationId']}", **extra)


# 1. A REQUEST authorizer (a Lambda function, mapped to an HTTP URL by the gateway's command line),
# its identity source a query parameter, answers cached for 300 s; a throttled $default; an access log.
authorized = v2.create_api(Name="authorized", ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.action")["ApiId"]
authorizer = v2.create_authorizer(
    ApiId=authorized, Name="tokens", AuthorizerType="REQUEST",
    AuthorizerUri=f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{function_arn}/invocations",
    IdentitySource=["route.request.querystring.token"], AuthorizerResultTtlInSeconds=300)
assert v2.get_authorizers(ApiId=authorized)["Items"][0]["AuthorizerId"] == authorizer["AuthorizerId"]
routes(authorized, {"AuthorizationType": "CUSTOM", "AuthorizerId": authorizer["AuthorizerId"]})
log_format = "$context.requestId $context.eventType $context.routeKey $context.status $context.authorizer.principalId $context.error.responseType"
v2.create_stage(ApiId=authorized, StageName="dev",
                AccessLogSettings={"DestinationArn": "arn:aws:logs:us-east-1:000000000000:log-group:ws-access", "Format": log_format},
                DefaultRouteSettings={"ThrottlingBurstLimit": 1000, "ThrottlingRateLimit": 1000.0},
                RouteSettings={"$default": {"ThrottlingBurstLimit": 2, "ThrottlingRateLimit": 0.001}})
stage = v2.get_stage(ApiId=authorized, StageName="dev")
assert stage["RouteSettings"]["$default"]["ThrottlingBurstLimit"] == 2, stage
assert stage["AccessLogSettings"]["Format"] == log_format, stage
# Authorization belongs to $connect only on a WebSocket API.
try:
    default_route = [r for r in v2.get_routes(ApiId=authorized)["Items"] if r["RouteKey"] == "$default"][0]
    v2.update_route(ApiId=authorized, RouteId=default_route["RouteId"], AuthorizationType="AWS_IAM")
    raise SystemExit("expected BadRequestException")
except v2.exceptions.BadRequestException:
    pass

# 2. AWS_IAM on $connect with an API key required, metered by a usage plan of 2 connects a day.
keyed = v2.create_api(Name="keyed", ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.action",
                      ApiKeySelectionExpression="$request.header.x-api-key")["ApiId"]
routes(keyed, {"AuthorizationType": "AWS_IAM", "ApiKeyRequired": True})
v2.create_stage(ApiId=keyed, StageName="dev")
api_key = v1.create_api_key(name="client", enabled=True, value="local-key-0123456789abcdef")
plan = v1.create_usage_plan(name="two-a-day", apiStages=[{"apiId": keyed, "stage": "dev"}],
                            throttle={"burstLimit": 100, "rateLimit": 100.0}, quota={"limit": 2, "period": "DAY"})
v1.create_usage_plan_key(usagePlanId=plan["id"], keyId=api_key["id"], keyType="API_KEY")
assert [k["id"] for k in v1.get_usage_plan_keys(usagePlanId=plan["id"])["items"]] == [api_key["id"]]
assert v1.get_api_key(apiKey=api_key["id"], includeValue=True)["value"] == "local-key-0123456789abcdef"
try:
    v1.create_usage_plan(name="nowhere", apiStages=[{"apiId": "missing", "stage": "dev"}])
    raise SystemExit("expected NotFoundException")
except v1.exceptions.NotFoundException:
    pass

host = endpoint.split("://", 1)[1]


def presign(path):
    request = AWSRequest(method="GET", url=f"ws://{host}{path}")
    SigV4QueryAuth(Credentials(key, secret), "execute-api", "us-east-1", expires=300).add_auth(request)
    return request.url.split(host, 1)[1]


print(json.dumps({
    "authorized": authorized,
    "keyed": keyed,
    "apiKey": api_key["value"],
    "apiKeyId": api_key["id"],
    "presigned": presign(f"/{keyed}/dev"),
    "logFormat": log_format,
}))
