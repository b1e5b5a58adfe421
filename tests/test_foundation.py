import pytest

from mi.config import cpu_quota, resolve_n_jobs
from mi.exceptions import ConfigError, DataError, MIError, RegistryKeyError


def test_errors_are_also_builtin_errors():
    assert issubclass(DataError, ValueError) and issubclass(DataError, MIError)
    err = RegistryKeyError("preset", "magpi", ["magpie", "magnet"])
    assert isinstance(err, KeyError)
    assert "Did you mean 'magpie'?" in str(err)
    assert "Available: magnet, magpie" in str(err)


def test_n_jobs_never_exceeds_quota():
    quota = cpu_quota()
    assert 1 <= quota
    assert resolve_n_jobs(10_000) == quota
    assert resolve_n_jobs(-1) == quota
    assert resolve_n_jobs(1) == 1
    with pytest.raises(ConfigError, match="n_jobs=0"):
        resolve_n_jobs(0)
