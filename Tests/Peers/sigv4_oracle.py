"""Signs requests with botocore's SigV4Auth and prints what it hashed and sent.

Input (stdin): a JSON list of cases {method, url, headers, body_b64, service, region, access_key,
secret_key, token, time}. Output (stdout): a JSON list of {canonical_request, string_to_sign,
authorization}, one per case, in order. botocore is the oracle our Swift signer must agree with.
"""
import base64
import datetime
import json
import sys

import botocore.auth
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


class CapturingSigV4Auth(SigV4Auth):
    def string_to_sign(self, request, canonical_request):
        self.captured_canonical_request = canonical_request
        self.captured_string_to_sign = super().string_to_sign(request, canonical_request)
        return self.captured_string_to_sign


def sign(case):
    when = datetime.datetime.strptime(case["time"], "%Y-%m-%dT%H:%M:%SZ")
    botocore.auth.get_current_datetime = lambda remove_tzinfo=True: when
    request = AWSRequest(
        method=case["method"],
        url=case["url"],
        headers=dict(case["headers"]),
        data=base64.b64decode(case["body_b64"]),
    )
    signer = CapturingSigV4Auth(
        Credentials(case["access_key"], case["secret_key"], case.get("token")),
        case["service"],
        case["region"],
    )
    signer.add_auth(request)
    return {
        "canonical_request": signer.captured_canonical_request,
        "string_to_sign": signer.captured_string_to_sign,
        "authorization": request.headers["Authorization"],
    }


if __name__ == "__main__":
    json.dump([sign(case) for case in json.load(sys.stdin)], sys.stdout)
