"""The evidence pack: a finished deal's signed record, checked offline by the CLI.

A deal is played through the emulators to its payout; its pack (GET /v1/deals/{id}/evidence) is
verified by `chainfluence evidence verify` against the key the API publishes, and packs tampered
with in each way that matters are rejected with a line naming what does not match.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import httpx
from nacl.signing import SigningKey
from pydantic import SecretStr
from typer.testing import CliRunner

from chainfluence.app import create_app
from chainfluence.cli import app as cli
from chainfluence.config import EvidenceSettings
from chainfluence.evidence.signing import KEY_PATH, Signer
from chainfluence.kit.serving import serve_in_background
from chainfluence.telegram.lifecycle import polling
from tests.deals.world import ADVERTISER_ID, OPERATOR_ID, PUBLISHER_ID, TON, World
from tests.factories import eventually, login

STRANGER_ID = 5_000_777


def _verify(path: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["evidence", "verify", str(path), *args])
    return result.exit_code, result.output


def _verify_with(tmp_path: Path, name: str, pack: dict[str, Any], key: str) -> tuple[int, str]:
    return _verify(_write(tmp_path, name, pack), "--key", key)


def _write(tmp_path: Path, name: str, pack: dict[str, Any]) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(pack, indent=2, ensure_ascii=False), encoding="utf-8")
    return path


async def _released_deal(world: World) -> tuple[int, dict[str, Any]]:
    async with polling(world.runtime, timeout=1):  # both start the bot, so it may write to them
        for user_id in (ADVERTISER_ID, PUBLISHER_ID):
            await world.control.start_bot(user_id)
            await eventually(
                lambda user=user_id: world.control.messages(user, sent_by_bot=True), bool
            )
    deal_id = await world.make_deal(amount="10")
    request = await world.pay(deal_id)
    await world.until(deal_id, "in_escrow")
    await world.agree_creative(deal_id)
    await world.pass_time(dt.timedelta(hours=1, seconds=5))
    await world.until(deal_id, "live")
    await world.pass_time(dt.timedelta(seconds=150))
    await world.until(deal_id, "live")
    await world.pass_time(dt.timedelta(seconds=160))
    await world.until(deal_id, "released", timeout=30)
    return deal_id, request


async def test_a_released_deal_s_pack_verifies_offline_and_tampering_is_named(
    world: World, tmp_path: Path
) -> None:
    deal_id, request = await _released_deal(world)
    keys = (await world.client.get(KEY_PATH)).json()
    [current] = keys["keys"]
    response = await world.client.get(
        f"/v1/deals/{deal_id}/evidence", headers=await world.headers(PUBLISHER_ID)
    )
    pack = response.json()
    for_advertiser = await world.api("GET", f"/v1/deals/{deal_id}/evidence", ADVERTISER_ID)
    for_operator = await world.api("GET", f"/v1/deals/{deal_id}/evidence", OPERATOR_ID)
    path = _write(tmp_path, "pack.json", pack)

    code, output = _verify(path, "--key", current["publicKey"])

    assert code == 0, output
    assert output.splitlines()[-1] == "VERIFIED: the pack is as the platform signed it."
    assert f"Evidence pack of deal #{deal_id} (released)" in output
    assert f"signature: valid (Ed25519, key {current['keyId']})" in output
    assert f"escrow: address {pack['escrow']['address']} recomputed" in output
    assert "creatives: 2 version(s), every content hash matches" in output
    assert response.headers["content-type"] == "application/json"
    assert keys["algorithm"] == "Ed25519"
    assert current["current"] is True
    assert pack["signature"]["keyId"] == current["keyId"]
    assert pack["keyUrl"] == "http://testserver" + KEY_PATH
    for other in (for_advertiser, for_operator):
        assert {k: v for k, v in other.items() if k not in ("issuedAt", "signature")} == {
            k: v for k, v in pack.items() if k not in ("issuedAt", "signature")
        }

    # What the pack holds, against what the API and the chain say.
    deal = await world.deal(deal_id)
    fee = 10 * TON * 500 // 10_000
    assert pack["deal"]["priceNano"] == str(10 * TON)
    assert pack["deal"]["platformFeeNano"] == str(fee)
    assert pack["deal"]["status"] == "released"
    assert pack["escrow"]["contractVersion"] == 2
    terms = pack["escrow"]["terms"]
    assert terms["priceNano"] == str(10 * TON)
    assert terms["feeRecipient"] == world.fee_recipient.to_str(is_user_friendly=False)
    assert [e["id"] for e in pack["timeline"]] == [e["id"] for e in deal["timeline"]]
    assert [c["version"] for c in pack["creatives"]] == [1, 2]
    assert pack["deal"]["contentHash"] == pack["creatives"][1]["contentHash"] == deal["contentHash"]
    probes = pack["probes"]
    assert len(probes) >= 2
    assert all(p["result"] == "passed" for p in probes)
    assert probes[-1]["final"] is True
    for probe in probes:
        assert probe["expectedFingerprint"] == pack["deal"]["postFingerprint"]
        assert probe["expectedContentFingerprint"] == pack["deal"]["postContentFingerprint"]
        seen, expected = (
            (probe["seenFingerprint"], probe["expectedFingerprint"])
            if probe["compared"] == "full"
            else (probe["seenContentFingerprint"], probe["expectedContentFingerprint"])
        )
        assert seen == expected is not None
    assert all(p["messageIds"] == [deal["postId"]] for p in probes)
    kinds = [tx["kind"] for tx in pack["chainTransactions"]]
    assert kinds == ["deposit", "release"]
    deposit, release = pack["chainTransactions"]
    assert deposit["amountNano"] == str(10 * TON)
    assert deposit["hash"] == deal["depositTxHash"]
    assert release["hash"] == deal["txHash"]
    paid = {out["address"]: out["amountNano"] for out in release["to"]}
    assert paid[terms["publisher"]] == str(10 * TON - fee)
    assert paid[terms["feeRecipient"]] == str(fee)
    assert int(deposit["lt"]) < int(release["lt"])
    # Both parties were told where the pack is when the deal finished, and the bot sent it to
    # each as a document with the news; that copy verifies too.
    for user_id in (ADVERTISER_ID, PUBLISHER_ID):
        inbox = await world.api("GET", "/v1/notifications", user_id)
        [released] = [n for n in inbox if n["type"] == "funds_released"]
        assert f"/v1/deals/{deal_id}/evidence" in released["body"]
        [sent] = await world.documents(user_id)
        assert sent.document is not None
        assert sent.document["file_name"] == f"chainfluence-deal-{deal_id}-evidence.json"
        assert sent.caption is not None
        assert sent.caption.startswith(f"Deal #{deal_id}: 9.5 TON paid to the publisher")
        assert world.runtime.bot is not None
        received = await world.runtime.bot.download(sent.document["file_id"])
        assert received is not None
        copy_path = tmp_path / f"from-bot-{user_id}.json"
        copy_path.write_bytes(received.read())
        code, output = _verify(copy_path, "--key", current["publicKey"])
        assert code == 0, output
        assert json.loads(copy_path.read_text())["deal"] == pack["deal"]

    # The escrow the advertiser paid and the chain ran.
    assert pack["escrow"]["address"] == request["rawAddress"] == deposit["account"]
    assert pack["escrow"]["stateInit"] == request["stateInit"]

    # A changed amount: the signature and the escrow's terms both disagree.
    cheaper = copy.deepcopy(pack)
    cheaper["deal"]["priceNano"] = str(1 * TON)
    code, output = _verify_with(tmp_path, "amount.json", cheaper, current["publicKey"])
    assert code == 1
    assert "MISMATCH  signature: the signature does not match the content" in output
    assert f"MISMATCH  deal: the price is {TON} but the escrow's terms say {10 * TON}" in output
    assert output.splitlines()[-1] == "FAILED: 2 check(s) do not match."

    # A changed escrow term: the address no longer follows from the terms.
    redirected = copy.deepcopy(pack)
    redirected["escrow"]["terms"]["publisher"] = terms["advertiser"]
    code, output = _verify(
        _write(tmp_path, "terms.json", redirected), "--key", current["publicKey"]
    )
    assert code == 1
    assert "MISMATCH  escrow: the terms and code give address" in output

    # A changed creative text.
    edited = copy.deepcopy(pack)
    edited["creatives"][1]["text"] = "Chainfluence: send your TON here."
    code, output = _verify_with(tmp_path, "creative.json", edited, current["publicKey"])
    assert code == 1
    assert "MISMATCH  signature:" in output
    assert "MISMATCH  creative v2: its content hashes to 0x" in output

    # A changed signature (one bit).
    forged = copy.deepcopy(pack)
    raw = bytearray(base64.b64decode(forged["signature"]["value"]))
    raw[0] ^= 1
    forged["signature"]["value"] = base64.b64encode(bytes(raw)).decode()
    code, output = _verify(
        _write(tmp_path, "signature.json", forged), "--key", current["publicKey"]
    )
    assert code == 1
    assert "MISMATCH  signature: the signature does not match the content" in output
    assert output.splitlines()[-1] == "FAILED: 1 check(s) do not match."

    # The wrong key: another key re-signed a doctored pack, or the pack is checked against one.
    other = Signer(bytes(SigningKey.generate()))
    resigned = other.sign(cheaper)
    code, output = _verify(
        _write(tmp_path, "resigned.json", resigned), "--key", current["publicKey"]
    )
    assert code == 1
    assert (
        f"MISMATCH  signature: the pack was signed with key {other.key_id}, but the key given "
        f"is {current['keyId']}"
    ) in output
    code, output = _verify(path, "--key", other.public_key.hex())
    assert code == 1
    assert f"signed with key {current['keyId']}, but the key given is {other.key_id}" in output


async def test_the_pack_is_for_the_parties_and_operators_only(world: World, tmp_path: Path) -> None:
    deal_id = await world.make_deal()
    path = f"/v1/deals/{deal_id}/evidence"

    anonymous = await world.client.get(path)
    stranger = await world.client.get(path, headers=await login(world.client, STRANGER_ID))
    missing = await world.client.get(
        f"/v1/deals/{deal_id + 1000}/evidence", headers=await world.headers(ADVERTISER_ID)
    )
    pending = await world.api("GET", path, OPERATOR_ID)

    assert anonymous.status_code == 401
    assert stranger.status_code == 404
    assert stranger.json()["code"] == missing.json()["code"] == "deal_not_found"
    assert missing.status_code == 404
    # Before the payment request there is no escrow yet; the pack still verifies.
    assert pending["escrow"] is None
    assert pending["chainTransactions"] == []
    assert [c["version"] for c in pending["creatives"]] == [1]
    key = (await world.client.get(KEY_PATH)).json()["keys"][0]["publicKey"]
    code, output = _verify(_write(tmp_path, "pending.json", pending), "--key", key)
    assert code == 0, output
    assert "escrow: none (no payment was ever requested for this deal)" in output


async def test_published_keys_keep_a_rotated_key_and_the_cli_picks_the_one_a_pack_names(
    world: World, tmp_path: Path
) -> None:
    deal_id = await world.make_deal()
    old_pack = await world.api("GET", f"/v1/deals/{deal_id}/evidence", ADVERTISER_ID)
    old_key = (await world.client.get(KEY_PATH)).json()["keys"][0]
    new_seed = bytes(SigningKey.generate())
    evidence = EvidenceSettings(
        signing_key=SecretStr(new_seed.hex()), previous_public_keys=[old_key["publicKey"]]
    )
    rotated = world.settings.model_copy(update={"evidence": evidence})
    app = create_app(rotated)
    async with serve_in_background(app) as url, httpx.AsyncClient(base_url=url) as client:
        keys = (await client.get(KEY_PATH)).json()["keys"]
        headers = await login(client, ADVERTISER_ID)
        new_pack = (await client.get(f"/v1/deals/{deal_id}/evidence", headers=headers)).json()
        results = [
            await asyncio.to_thread(
                _verify, _write(tmp_path, name, pack), "--key-url", url + KEY_PATH
            )
            for name, pack in (("old.json", old_pack), ("new.json", new_pack))
        ]
        unknown = Signer(bytes(SigningKey.generate())).sign(old_pack)
        refused = await asyncio.to_thread(
            _verify, _write(tmp_path, "unknown.json", unknown), "--key-url", url + KEY_PATH
        )

    assert [(k["keyId"], k["current"]) for k in keys] == [
        (Signer(new_seed).key_id, True),
        (old_key["keyId"], False),
    ]
    assert new_pack["signature"]["keyId"] == Signer(new_seed).key_id
    assert new_pack["keyUrl"] == "http://testserver" + KEY_PATH
    for code, output in results:
        assert code == 0, output
    code, output = refused
    assert code == 2
    assert f"key {unknown['signature']['keyId']} is not published at {url}{KEY_PATH}" in output


async def test_a_refunded_deal_s_pack_shows_the_edit_found_and_the_refund(
    world: World, tmp_path: Path
) -> None:
    deal = await world.live_deal()
    await world.control.edit_post(
        world.channel.id, deal["postId"], text="Something else entirely", by_user_id=PUBLISHER_ID
    )
    await world.pass_time(dt.timedelta(seconds=310))
    # The edit waits for the advertiser, who refuses it.
    await world.until(deal["id"], "edit_pending")
    await world.api("POST", f"/v1/deals/{deal['id']}/edit/refuse", ADVERTISER_ID)
    await world.until(deal["id"], "refunded", timeout=30)
    pack = await world.api("GET", f"/v1/deals/{deal['id']}/evidence", PUBLISHER_ID)
    key = (await world.client.get(KEY_PATH)).json()["keys"][0]["publicKey"]

    code, output = _verify_with(tmp_path, "refunded.json", pack, key)

    assert code == 0, output
    failed = pack["probes"][-1]
    assert failed["result"] == "edited"
    assert failed["reason"] == "The post was edited after it was published."
    assert failed["messageIds"] == [deal["postId"]]
    assert failed["seenContentFingerprint"] != failed["expectedContentFingerprint"]
    assert all(p["result"] == "passed" for p in pack["probes"][:-1])
    assert [tx["kind"] for tx in pack["chainTransactions"]] == ["deposit", "refund"]
    refund = pack["chainTransactions"][1]
    assert [out["address"] for out in refund["to"]] == [pack["escrow"]["terms"]["advertiser"]]
    assert int(refund["to"][0]["amountNano"]) > 10 * TON
    assert pack["deal"]["closeReason"] == "The advertiser refused the edit of the post."
    inbox = await world.api("GET", "/v1/notifications", ADVERTISER_ID)
    [refunded] = [n for n in inbox if n["type"] == "funds_refunded"]
    assert f"/v1/deals/{deal['id']}/evidence" in refunded["body"]
