from __future__ import annotations

import pytest

from tests.conftest import shared_file


@pytest.fixture(scope="session")
def cifar_jpg():
    return str(shared_file("cifar10-jpg.tar.gz"))


@pytest.fixture
def quiet():
    lines = []
    return lines.append
