"""Provisions a WebSocket API on the local gateway with boto3's apigatewayv2 client, unmodified
but for endpoint_url, and prints what a test needs as JSON.

    python provision_local.py ENDPOINT ACCESS_KEY SECRET BACKEND_URL
"""
import json
import sys

import boto3

endpoint, key, secret, backend = sys.argv[1:5]
c = boto3.client("apigatewayv2", endpoint_url=endpoint, region_name="us-east-1",
                 aws_access_key_id=key, aws_secret_access_key=secret)

api = c.create_api(Name="provisioned", ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.action",
                   Tags={"app": "test"})
api_id = api["ApiId"]
mapping = {"integration.request.header.connectionId": "context.connectionId",
           "integration.request.header.X-Domain-Name": "context.domainName"}
ids = {}
for key_name, path in [("$connect", "connect"), ("$disconnect", "disconnect"), ("$default", "default"), ("sendmessage", "sendmessage")]:
    integration = c.create_integration(ApiId=api_id, IntegrationType="HTTP_PROXY", IntegrationMethod="POST",
                                       IntegrationUri=f"{backend}/ws/{path}", PayloadFormatVersion="1.0",
                                       TimeoutInMillis=29000, RequestParameters=mapping)
    two_way = {"RouteResponseSelectionExpression": "$default"} if key_name == "sendmessage" else {}
    route = c.create_route(ApiId=api_id, RouteKey=key_name, Target=f"integrations/{integration['IntegrationId']}", **two_way)
    ids[key_name] = route["RouteId"]
c.create_route_response(ApiId=api_id, RouteId=ids["sendmessage"], RouteResponseKey="$default")
c.create_stage(ApiId=api_id, StageName="dev")
deployment = c.create_deployment(ApiId=api_id, StageName="dev")

# Reads, pagination, updates, errors.
assert c.get_api(ApiId=api_id)["Name"] == "provisioned"
keys = []
token = None
pages = 0
while True:
    kwargs = {"ApiId": api_id, "MaxResults": "2"}
    if token:
        kwargs["NextToken"] = token
    page = c.get_routes(**kwargs)
    pages += 1
    keys += [r["RouteKey"] for r in page["Items"]]
    token = page.get("NextToken")
    if not token:
        break
assert sorted(keys) == ["$connect", "$default", "$disconnect", "sendmessage"], keys
assert pages == 2, pages
c.update_route(ApiId=api_id, RouteId=ids["$default"], OperationName="fallback")
assert c.get_route(ApiId=api_id, RouteId=ids["$default"])["OperationName"] == "fallback"
assert [r["RouteResponseKey"] for r in c.get_route_responses(ApiId=api_id, RouteId=ids["sendmessage"])["Items"]] == ["$default"]
assert c.get_stage(ApiId=api_id, StageName="dev")["DeploymentId"] == deployment["DeploymentId"]
c.update_stage(ApiId=api_id, StageName="dev", StageVariables={"env": "local"})
try:
    c.get_api(ApiId="doesnotexist")
    raise SystemExit("expected NotFoundException")
except c.exceptions.NotFoundException:
    pass
try:
    c.create_route(ApiId=api_id, RouteKey="sendmessage")
    raise SystemExit("expected ConflictException")
except c.exceptions.ConflictException:
    pass

# Tags through the tagging calls (the ARN percent-encoded into one path segment).
arn = f"arn:aws:apigateway:us-east-1::/apis/{api_id}"
c.tag_resource(ResourceArn=arn, Tags={"env": "local"})
c.untag_resource(ResourceArn=arn, TagKeys=["app"])
assert c.get_tags(ResourceArn=arn)["Tags"] == {"env": "local"}, c.get_tags(ResourceArn=arn)
assert c.get_api(ApiId=api_id)["Tags"] == {"env": "local"}

# A custom domain mapped to the stage under the base path "chat".
certificate = "arn:aws:acm:us-east-1:123456789012:certificate/abc-123"
domain = c.create_domain_name(DomainName="ws.example.com", DomainNameConfigurations=[
    {"CertificateArn": certificate, "EndpointType": "REGIONAL", "SecurityPolicy": "TLS_1_2"}])
target = domain["DomainNameConfigurations"][0]
assert target["CertificateArn"] == certificate and target["ApiGatewayDomainName"] and target["HostedZoneId"], target
api_mapping = c.create_api_mapping(DomainName="ws.example.com", ApiId=api_id, Stage="dev", ApiMappingKey="chat")
assert [m["ApiMappingId"] for m in c.get_api_mappings(DomainName="ws.example.com")["Items"]] == [api_mapping["ApiMappingId"]]
assert c.get_api_mapping(DomainName="ws.example.com", ApiMappingId=api_mapping["ApiMappingId"])["ApiMappingKey"] == "chat"
assert [d["DomainName"] for d in c.get_domain_names()["Items"]] == ["ws.example.com"]
for call, kwargs, error in [
    (c.create_domain_name, {"DomainName": "ws.example.com"}, c.exceptions.ConflictException),
    (c.get_domain_name, {"DomainName": "nope.example.com"}, c.exceptions.NotFoundException),
    (c.create_api_mapping, {"DomainName": "ws.example.com", "ApiId": "doesnotexist", "Stage": "dev"}, c.exceptions.NotFoundException),
    (c.create_api_mapping, {"DomainName": "ws.example.com", "ApiId": api_id, "Stage": "dev", "ApiMappingKey": "chat"}, c.exceptions.ConflictException),
    (c.create_api_mapping, {"DomainName": "ws.example.com", "ApiId": api_id, "Stage": "nostage"}, c.exceptions.BadRequestException),
]:
    try:
        call(**kwargs)
        raise SystemExit(f"expected {error.__name__} from {call.__name__}")
    except error:
        pass
print(json.dumps({"apiId": api_id, "apiEndpoint": api["ApiEndpoint"], "apis": len(c.get_apis()["Items"]),
                  "domainTarget": target["ApiGatewayDomainName"]}))
