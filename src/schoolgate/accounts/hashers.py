from django.contrib.auth.hashers import Argon2PasswordHasher


class SchoolgateArgon2PasswordHasher(Argon2PasswordHasher):
    """Argon2id at OWASP's recommended minimum (19 MiB, 2 passes, 1 lane).

    Django's default (100 MiB, 8 lanes) costs 0.5-0.9 s of CPU a hash on a 2-core box,
    so a parents' evening rush of sign-ins would queue for minutes. Hashes keep their
    own parameters, so older ones still verify and are upgraded at the next sign-in."""

    time_cost = 2
    memory_cost = 19 * 1024
    parallelism = 1
