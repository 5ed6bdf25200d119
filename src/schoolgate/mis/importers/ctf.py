from pathlib import Path

from schoolgate.mis.snapshot import Snapshot


def read(path: Path, *, name: str) -> Snapshot:
    raise NotImplementedError
