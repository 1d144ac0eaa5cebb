"""Payment-request shapes: the escrow's terms, a TON Connect `sendTransaction`, a ton:// link."""

from __future__ import annotations

from typing import Any

from pydantic import Field, SerializerFunctionWrapHandler, model_serializer

from chainfluence.kit.money import NanoString, TonString
from chainfluence.kit.schemas import Schema, UtcDateTime


class TonConnectMessage(Schema):
    address: str = Field(description="Destination, user-friendly bounceable (a contract).")
    amount: NanoString
    state_init: str = Field(description="Base64 BOC; deploys the escrow with the first payment.")
    payload: str | None = Field(default=None, description="Base64 BOC of the message body.")

    @model_serializer(mode="wrap")
    def _omit_absent(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        return {key: value for key, value in handler(self).items() if value is not None}


class TonConnectTransaction(Schema):
    """TON Connect's `sendTransaction` request, ready for `tonConnectUI.sendTransaction(...)`."""

    valid_until: int = Field(description="Unix time after which the wallet must not send it.")
    network: str | None = Field(
        default=None, description='"-239" mainnet, "-3" testnet; omitted in the sandbox.'
    )
    from_: str | None = Field(
        default=None,
        alias="from",
        description="The advertiser's proven wallet (raw): refunds of this deal go there.",
    )
    messages: list[TonConnectMessage]

    @model_serializer(mode="wrap")
    def _omit_absent(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # The SDK treats an absent field as "any"; a null one it may reject.
        return {key: value for key, value in handler(self).items() if value is not None}


class EscrowTerms(Schema):
    """Everything the contract fixes; the address is the hash of these (and the code)."""

    deal_id: int
    platform_address: str = Field(description="User-friendly; `platformAddressRaw` raw.")
    platform_address_raw: str
    advertiser_address: str = Field(description="Refunds and any excess go here, friendly.")
    advertiser_address_raw: str
    publisher_address: str = Field(description="The payout (price − fee) goes here, friendly.")
    publisher_address_raw: str
    fee_recipient: str = Field(description="User-friendly; `feeRecipientRaw` raw.")
    fee_recipient_raw: str
    price_nano: NanoString
    fee_nano: NanoString
    publisher_payout_nano: NanoString
    refund_after: UtcDateTime = Field(description="From then on anyone may refund the advertiser.")
    contract_version: int = Field(
        description="The escrow contract's version (1 FunC, 2 Tolk); escrows keep theirs for good."
    )
    code_hash: str = Field(description="Hex hash of the contract code in the StateInit.")


class PaymentRequest(Schema):
    deal_id: int
    address: str = Field(description="The deal's escrow, user-friendly bounceable.")
    raw_address: str
    amount_nano: NanoString = Field(description="The deal's exact price.")
    amount: TonString
    state_init: str = Field(description="Base64 BOC of the escrow's StateInit.")
    payload: str = Field(description="Base64 BOC: a text comment naming the deal.")
    valid_until: int = Field(description="Unix time; ask again for a fresh request after it.")
    ton_transfer_url: str = Field(description="ton://transfer link for the same payment.")
    transaction: TonConnectTransaction
    terms: EscrowTerms
