def test_sign_in_page_renders(client):
    response = client.get("/accounts/sign-in/")
    assert response.status_code == 200
    assert b"Sign in" in response.content


def test_staff_pages_need_sign_in(client):
    response = client.get("/staff/mis/")
    assert response.status_code == 302
    assert "/accounts/sign-in/" in response["Location"]
