"""C2SP tlog-checkpoint text and signed checkpoints."""

from __future__ import annotations

import base64

import pytest

from zhuisu.ledger import merkle, note
from zhuisu.ledger.checkpoint import Checkpoint, CheckpointError, open_checkpoint

ROOT = merkle.leaf_hash(b"x")


def test_text_layout_matches_spec_example() -> None:
    # Layout of the c2sp.org/tlog-checkpoint example: origin, size, base64 root, newline-terminated.
    root = base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")
    cp = Checkpoint("example.com/behind-the-sofa", 20852163, root)
    expected = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    assert cp.text() == expected
    assert Checkpoint.parse_text(cp.text()) == cp


def test_sign_and_open_with_extensions() -> None:
    signer = note.Signer.generate("zhuisu.test/log")
    cp = Checkpoint("zhuisu.test/log", 5, ROOT, ("ext one",))
    signed = cp.sign(signer)
    assert signed.startswith(cp.text() + "\n— zhuisu.test/log ")
    assert open_checkpoint(signed, [signer.verifier], origin="zhuisu.test/log") == cp
    with pytest.raises(CheckpointError, match="origin"):
        open_checkpoint(signed, [signer.verifier], origin="zhuisu.test/other")
    with pytest.raises(CheckpointError, match="signature"):
        open_checkpoint(signed.replace("\n5\n", "\n6\n"), [signer.verifier])


@pytest.mark.parametrize(
    "text",
    [
        "o\n5\n",
        "\n5\n" + base64.b64encode(ROOT).decode() + "\n",
        "o\n05\n" + base64.b64encode(ROOT).decode() + "\n",
        "o\n-5\n" + base64.b64encode(ROOT).decode() + "\n",
        "o\n5\n" + base64.b64encode(ROOT[:31]).decode() + "\n",
        "o\n5\n" + base64.b64encode(ROOT).decode(),
        "o\n5\n" + base64.b64encode(ROOT).decode() + "\n\n",
    ],
    ids=["short", "empty-origin", "leading-zero", "negative", "short-root", "no-newline", "empty-extension"],
)
def test_bad_checkpoint_text_refused(text: str) -> None:
    with pytest.raises(CheckpointError):
        Checkpoint.parse_text(text)


def test_empty_tree_checkpoint() -> None:
    cp = Checkpoint("o", 0, merkle.EMPTY_ROOT)
    assert Checkpoint.parse_text(cp.text()).size == 0
