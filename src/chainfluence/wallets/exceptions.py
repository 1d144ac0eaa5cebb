"""Wallet-linking errors: each says what is wrong with the proof and what to do."""

from __future__ import annotations

from chainfluence.kit.errors import BadRequest, Conflict
from chainfluence.ton.ton_proof import TonProofRejected


class ProofPayloadUnknown(BadRequest):
    code = "ton_proof_payload_unknown"

    def __init__(self) -> None:
        # Someone else's payload looks exactly like a made-up one: neither was issued to you.
        super().__init__(
            "This proof answers a challenge that was not issued to you; request a new payload "
            "from GET /v1/wallet/ton-proof/payload and connect the wallet again."
        )


class ProofPayloadExpired(BadRequest):
    code = "ton_proof_payload_expired"

    def __init__(self) -> None:
        super().__init__(
            "This proof's challenge has expired; request a new payload and connect the wallet "
            "again."
        )


class ProofPayloadUsed(Conflict):
    code = "ton_proof_payload_used"

    def __init__(self) -> None:
        super().__init__(
            "This proof's challenge was already used; each proof links a wallet once. Request a "
            "new payload to link again."
        )


class InvalidTonProof(BadRequest):
    """The proof itself failed a check; `code` names which (see `ton_proof.ProofFailure`)."""

    def __init__(self, rejected: TonProofRejected) -> None:
        super().__init__(rejected.message, code=rejected.reason.value)
