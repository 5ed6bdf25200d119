from django.contrib.auth.hashers import Argon2PasswordHasher, check_password, make_password

from schoolgate.accounts.models import User


def test_passwords_are_hashed_with_argon2id_at_owasp_parameters():
    encoded = make_password("a long enough passphrase")
    assert encoded.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")
    assert check_password("a long enough passphrase", encoded)
    assert not check_password("another passphrase", encoded)


def test_a_hash_made_with_djangos_heavier_defaults_still_signs_in_and_is_upgraded(client):
    old = Argon2PasswordHasher().encode("a long enough passphrase", "somesaltsomesalt")
    user = User.objects.create_user("parent@example.com")
    User.objects.filter(pk=user.pk).update(password=old)

    response = client.post(
        "/accounts/sign-in/",
        {"username": "parent@example.com", "password": "a long enough passphrase"},
    )

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.password.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")
