from uzi.softhsm_fixtures import softhsm, uzi_test_ca  # noqa: F401
