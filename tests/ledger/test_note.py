"""C2SP signed notes against Go sumdb/note known answers (tests/data/ledger/note_vectors.json)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from zhuisu.ledger import note
from zhuisu.ledger.note import NoteError, Signer, Verifier

V = json.loads((Path(__file__).parent.parent / "data" / "ledger" / "note_vectors.json").read_text())
PETER, ENOCH, TEXT = V["peter"], V["enoch"], V["text"]


def test_go_private_key_gives_go_verifier_key_and_signature() -> None:
    signer = Signer.from_key(PETER["skey"])
    assert signer.name == PETER["name"]
    assert signer.key_id.hex() == PETER["key_id"]
    assert signer.verifier.vkey == PETER["vkey"]
    assert signer.skey == PETER["skey"]
    # Ed25519 is deterministic, so our signed note must equal Go's byte for byte.
    assert note.sign(TEXT, signer) == TEXT + "\n" + PETER["sig_line"]


def test_key_id_formula() -> None:
    verifier = Verifier.from_key(ENOCH["vkey"])
    raw = base64.b64decode(ENOCH["vkey"].split("+", 2)[2])
    assert note.key_id("EnochRoot", raw[1:]).hex() == ENOCH["key_id"] == verifier.key_id.hex()
    assert verifier.vkey == ENOCH["vkey"]


def test_open_go_note_with_two_signatures() -> None:
    msg = TEXT + "\n" + PETER["sig_line"] + ENOCH["sig_line"]
    peter = Verifier.from_key(PETER["vkey"])
    enoch = Verifier.from_key(ENOCH["vkey"])
    opened = note.open_note(msg, [peter])
    assert opened.text == TEXT
    assert [s.name for s in opened.verified] == ["PeterNeumann"]
    assert [s.name for s in opened.unverified] == ["EnochRoot"]
    both = note.open_note(msg.encode(), [peter, enoch])
    assert [s.name for s in both.verified] == ["PeterNeumann", "EnochRoot"]
    with pytest.raises(NoteError, match="no verifiable signatures"):
        note.open_note(msg, [])


def test_bad_signature_from_known_key_rejects_note() -> None:
    sig = PETER["sig_line"]
    msg = TEXT + "\n" + sig[:60] + "ABCD" + sig[60:]
    with pytest.raises(NoteError, match="invalid signature for key PeterNeumann"):
        note.open_note(msg, [Verifier.from_key(PETER["vkey"])])
    with pytest.raises(NoteError, match="invalid signature"):
        note.open_note(TEXT.replace("problem", "puzzle") + "\n" + sig, [Verifier.from_key(PETER["vkey"])])


@pytest.mark.parametrize(
    "msg",
    [
        TEXT,
        TEXT + "\n",
        TEXT + "\n" + PETER["sig_line"][:-1],
        "\x01" + TEXT + "\n" + PETER["sig_line"],
        b"\xff" + (TEXT + "\n" + PETER["sig_line"]).encode(),
        TEXT + "\n" + PETER["sig_line"].replace("PeterNeumann", "Bad Name")[:-1],
        TEXT + "\n" + PETER["sig_line"] + "Unexpected line.\n",
        TEXT + "\n" + PETER["sig_line"] * 101,
    ],
    ids=["no-sigs", "blank", "no-final-newline", "control", "bad-utf8", "bad-name", "extra-line", "101-sigs"],
)
def test_malformed_notes_refused(msg: str | bytes) -> None:
    with pytest.raises(NoteError):
        note.open_note(msg, [Verifier.from_key(PETER["vkey"])])


def test_mangled_verifier_keys_refused() -> None:
    vkey = PETER["vkey"]
    for bad in [*V["bad_vkeys"], vkey[:-1], vkey[1:], vkey.replace("c74f20a3", "c74f20a4"), vkey + "+x"]:
        with pytest.raises(NoteError):
            Verifier.from_key(bad)
    for i in range(len(vkey)):  # every single-character change is caught (as in Go's test)
        mangled = vkey[:i] + chr(ord(vkey[i]) + 1) + vkey[i + 1 :]
        with pytest.raises(NoteError):
            Verifier.from_key(mangled)


def test_mangled_private_keys_refused() -> None:
    skey = PETER["skey"]
    for i in range(len(skey)):
        mangled = skey[:i] + chr(ord(skey[i]) + 1) + skey[i + 1 :]
        with pytest.raises(NoteError):
            Signer.from_key(mangled)


def test_generated_key_round_trip_and_names() -> None:
    signer = Signer.generate("zhuisu.example/log")
    assert Verifier.from_key(signer.verifier.vkey) == signer.verifier
    assert Signer.from_key(signer.skey).verifier == signer.verifier
    signed = note.sign("hello\n", signer)
    assert note.open_note(signed, [signer.verifier]).text == "hello\n"
    other = Signer.generate("zhuisu.example/log")  # same name, other key: ignored, so unverifiable
    with pytest.raises(NoteError, match="no verifiable"):
        note.open_note(signed, [other.verifier])
    for bad in ["", "a b", "a+b", "a\u3000b"]:
        with pytest.raises(NoteError, match="key name"):
            Signer.generate(bad)
    for text in ["no newline", "ctl\x07\n"]:
        with pytest.raises(NoteError):
            note.sign(text, signer)
