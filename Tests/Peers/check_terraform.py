"""Parses a Terraform file with python-hcl2 and checks the API Gateway v2 resources in it.

    python check_terraform.py FILE ROUTE_KEY... [--domain DOMAIN]

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
if problems:
    print("\n".join(problems))
    sys.exit(1)
print("ok")
