"""Run the local TON chain on its own: `python -m chainfluence_sandbox.ton --port 8082`."""

from __future__ import annotations

import argparse
from pathlib import Path

import uvicorn

from chainfluence_sandbox.ton.api import create_ton_emulator
from chainfluence_sandbox.ton.chain import TonChain


def main() -> None:
    parser = argparse.ArgumentParser(description="TON chain emulator (toncenter v2 API)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8082)
    parser.add_argument("--state", type=Path, default=None, help="keep the chain in this file")
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args()

    app, _chain = create_ton_emulator(TonChain(state_path=args.state))
    base_url = f"http://{args.host}:{args.port}"
    print(f"TON chain emulator: toncenter v2 at {base_url}/api/v2, control API {base_url}/docs")
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, access_log=False)


if __name__ == "__main__":
    main()
