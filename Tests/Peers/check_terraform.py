"""Parses a Terraform file with python-hcl2 and checks the API Gateway v2 resources in it.

    python check_terraform.py FILE ROUTE_KEY... [--domain DOMAIN] [--guards]

--guards checks what API Gateway guards: the $connect authorizer and the permission to invoke its
function, the stage's throttles and access log with its log group, the deploy and run policies.

Prints "ok" or exits non-zero with what is wrong. python-hcl2 only parses (terraform itself cannot
run offline), so the resource types and attributes are checked here.
"""
import sys

import hcl2

arguments = sys.argv[1:]
domain = None
if "--domain" in arguments:
    index = arguments.index("--domain")
    domain = arguments[index + 1]
    del arguments[index:index + 2]
guards = "--guards" in arguments
if guards:
    arguments.remove("--guards")
path, expected_keys = arguments[0], set(arguments[1:])
with open(path) as handle:
    document = hcl2.load(handle)


def unquote(text):
    return text[1:-1] if isinstance(text, str) and len(text) >= 2 and text[0] == text[-1] == '"' else text


resources = {}
for block in document.get("resource", []):
    for kind, named in block.items():
        for name, body in named.items():
            resources.setdefault(unquote(kind), {})[unquote(name)] = body

problems = []
apis = resources.get("aws_apigatewayv2_api", {})
if len(apis) != 1:
    problems.append(f"expected one aws_apigatewayv2_api, found {len(apis)}")
for api in apis.values():
    if unquote(api.get("protocol_type")) != "WEBSOCKET":
        problems.append(f"protocol_type is {api.get('protocol_type')}")
    if not api.get("route_selection_expression"):
        problems.append("route_selection_expression missing")
routes = resources.get("aws_apigatewayv2_route", {})
keys = {unquote(route.get("route_key")) for route in routes.values()}
if keys != expected_keys:
    problems.append(f"route keys {sorted(keys)} != {sorted(expected_keys)}")
integrations = resources.get("aws_apigatewayv2_integration", {})
for name, integration in integrations.items():
    if unquote(integration.get("integration_type")) != "HTTP_PROXY":
        problems.append(f"integration {name} is not HTTP_PROXY")
    parameters = integration.get("request_parameters") or {}
    if not any("connectionId" in unquote(key) for key in parameters):
        problems.append(f"integration {name} does not map connectionId")
if len(integrations) != len(routes):
    problems.append("one integration per route expected")
for kind in ("aws_apigatewayv2_stage", "aws_apigatewayv2_deployment"):
    if len(resources.get(kind, {})) != 1:
        problems.append(f"expected one {kind}")
if domain is not None:
    domains = resources.get("aws_apigatewayv2_domain_name", {})
    names = {unquote(body.get("domain_name")) for body in domains.values()}
    if names != {domain}:
        problems.append(f"domain names {sorted(names)} != [{domain}]")
    for body in domains.values():
        configuration = body.get("domain_name_configuration")
        configuration = configuration[0] if isinstance(configuration, list) and configuration else configuration
        if not configuration or not unquote(configuration.get("certificate_arn", "")).startswith("arn:aws"):
            problems.append("domain_name_configuration without a certificate_arn")
    if len(resources.get("aws_apigatewayv2_api_mapping", {})) != 1:
        problems.append("expected one aws_apigatewayv2_api_mapping for the custom domain")
def first(value):
    return value[0] if isinstance(value, list) and value else value


if guards:
    authorizers = resources.get("aws_apigatewayv2_authorizer", {})
    if len(authorizers) != 1:
        problems.append(f"expected one aws_apigatewayv2_authorizer, found {len(authorizers)}")
    for body in authorizers.values():
        if unquote(body.get("authorizer_type")) != "REQUEST" or not body.get("identity_sources"):
            problems.append("the authorizer is not REQUEST with identity sources")
        if ":lambda:path/2015-03-31/functions/" not in unquote(body.get("authorizer_uri", "")):
            problems.append("the authorizer's URI is not a Lambda invocation URI")
    permissions = resources.get("aws_lambda_permission", {})
    if not any(unquote(p.get("principal")) == "apigateway.amazonaws.com" for p in permissions.values()):
        problems.append("no permission lets API Gateway invoke the authorizer")
    connect = [r for r in routes.values() if unquote(r.get("route_key")) == "$connect"]
    if not connect or unquote(connect[0].get("authorization_type")) != "CUSTOM" or "authorizer" not in str(connect[0].get("authorizer_id")):
        problems.append("$connect is not authorized by the authorizer")
    stage = first(list(resources.get("aws_apigatewayv2_stage", {}).values()))
    if not stage or not stage.get("default_route_settings") or not stage.get("route_settings") or not stage.get("access_log_settings"):
        problems.append("the stage has no throttles or no access log")
    if len(resources.get("aws_cloudwatch_log_group", {})) != 1:
        problems.append("expected the access log's group")
    policies = resources.get("aws_iam_policy", {})
    if set(policies) != {"deploy", "run"}:
        problems.append(f"expected the deploy and run policies, found {sorted(policies)}")
    run = str(policies.get("run", {}).get("policy", ""))
    if "execute-api:ManageConnections" not in run or "@connections" not in run:
        problems.append("the run policy is not ManageConnections on @connections")

if problems:
    print("\n".join(problems))
    sys.exit(1)
print("ok")
