"""Poppler's `pdfsig`: a verifier independent of ours (pyHanko) for signed PDFs.

`pdfsig -nocert` checks each signature's digest and whether it covers the whole file; it does
not know our test PKI, so certificate trust stays our verifier's business. `make test`
installs it (poppler-utils); a test that needs it fails when it is missing (never skips).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass
class PdfSigSignature:
    validation: str  # "Signature is Valid.", "Digest Mismatch.", ...
    whole_file: bool  # "Total document signed" (else "Not total document signed")
    kind: str  # "ETSI.CAdES.detached"; "unknown" for a document timestamp (not checked)

    @property
    def checked(self) -> bool:
        """pdfsig checks CMS signatures; document timestamps (RFC 3161) it cannot."""
        return self.kind != "unknown"

    @property
    def valid(self) -> bool:
        return self.validation == "Signature is Valid."


def pdfsig(pdf: bytes) -> tuple[list[PdfSigSignature], str]:
    """The signatures pdfsig reports in `pdf`, and its whole output (for messages)."""
    binary = shutil.which("pdfsig")
    if binary is None:
        pytest.fail("pdfsig is missing (apt-get install poppler-utils; make test does)")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "signed.pdf"
        path.write_bytes(pdf)
        run = subprocess.run([binary, "-nocert", str(path)], capture_output=True, check=False)
    output = (run.stdout + run.stderr).decode(errors="replace")
    out: list[PdfSigSignature] = []
    for block in re.split(r"^Signature #\d+:$", output, flags=re.M)[1:]:
        found = re.search(r"Signature Validation: (.+)$", block, flags=re.M)
        kind = re.search(r"Signature Type: (.+)$", block, flags=re.M)
        out.append(
            PdfSigSignature(
                validation=found.group(1).strip() if found else "",
                whole_file="Total document signed" in block and "Not total" not in block,
                kind=kind.group(1).strip() if kind else "",
            )
        )
    return out, output


def assert_pdfsig_valid(pdf: bytes, count: int | None = None, *, whole: bool = True) -> None:
    """Every signature pdfsig can check (`count` of them) valid and, with `whole`, the last
    one covering the whole file (nothing added after it). Long-term levels (B-LT, B-LTA) add
    validation data in a later revision, which pdfsig reports as "Not total document signed"
    without judging it: there `whole` is False and our own verifier classifies the change."""
    found, output = pdfsig(pdf)
    signatures = [s for s in found if s.checked]
    assert signatures, f"pdfsig found no signature it checks:\n{output}"
    if count is not None:
        assert len(signatures) == count, output
    assert all(s.valid for s in signatures), output
    assert found[-1].whole_file or not whole, output
