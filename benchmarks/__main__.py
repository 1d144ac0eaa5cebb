"""`python -m benchmarks [names...]`: run the benchmarks and print their figures."""

from __future__ import annotations

import argparse
import asyncio
import os
import platform

from benchmarks import (
    bench_auth,
    bench_campaigns,
    bench_catalogue,
    bench_escrow_gas,
    bench_probes,
    bench_watcher,
)

BENCHMARKS = {
    "auth": bench_auth.run,
    "campaigns": bench_campaigns.run,
    "catalogue": bench_catalogue.run,
    "escrow_gas": bench_escrow_gas.run,
    "probes": bench_probes.run,
    "watcher": bench_watcher.run,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*", choices=[*BENCHMARKS, []], help="which to run")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per load test")
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, Python {platform.python_version()}")
    for name in args.names or list(BENCHMARKS):
        asyncio.run(BENCHMARKS[name](duration=args.duration, concurrency=args.concurrency))


if __name__ == "__main__":
    main()
