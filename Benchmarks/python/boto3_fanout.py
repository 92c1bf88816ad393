"""The Python package's broadcast, for comparison: boto3's post_to_connection from a pool of 10
threads (as django-aws-api-gateway-websockets does), to the same sink and ids as FanoutBenchmark.

    python Benchmarks/python/boto3_fanout.py --sink http://127.0.0.1:9901 --connections 10000
"""
import argparse
import concurrent.futures
import resource
import time

import boto3
from botocore.config import Config


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sink", required=True)
    parser.add_argument("--connections", type=int, default=10000)
    parser.add_argument("--threads", type=int, default=10)
    args = parser.parse_args()

    client = boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=args.sink,
        region_name="us-east-1",
        aws_access_key_id="AKIDBENCH",
        aws_secret_access_key="bench-secret",
        config=Config(max_pool_connections=args.threads, retries={"max_attempts": 1}),
    )
    ids = ["conn%07d=" % n for n in range(args.connections)]
    data = b'{"text":"hello, everyone","type":"broadcast"}'
    sent = gone = failed = 0

    def post(connection_id):
        try:
            client.post_to_connection(ConnectionId=connection_id, Data=data)
            return "sent"
        except client.exceptions.GoneException:
            return "gone"
        except Exception:  # noqa: BLE001 - counted, as the package logs and moves on
            return "failed"

    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.threads) as pool:
        for outcome in pool.map(post, ids):
            if outcome == "sent":
                sent += 1
            elif outcome == "gone":
                gone += 1
            else:
                failed += 1
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"boto3, {args.threads} threads: {len(ids) / elapsed:.0f} posts/s in {elapsed:.2f} s; "
          f"{sent} sent, {gone} gone, {failed} failed; peak RSS {peak:.1f} MB")


if __name__ == "__main__":
    main()
