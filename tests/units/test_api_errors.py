"""Every API error is JSON with one shape: ``detail``, ``code`` and, for input errors, the fields."""


def test_an_unknown_api_path_answers_a_json_404_for_every_method(api, center):
    client = api.as_user(center)
    for response in (client.get("/api/v1/nope/"), client.get("/api/v1/appeals/0.5/"), client.post("/api/nope/")):
        assert response.status_code == 404
        assert response["Content-Type"].startswith("application/json")
        assert response.json() == {"detail": "接口不存在。", "code": "not_found"}


def test_an_unknown_path_refuses_a_cookie_post_with_json_not_the_csrf_page(client):
    client.cookies["sessionid"] = "not-a-session"
    response = client.post("/api/v1/appeals/1.5/merge/", {}, content_type="application/json")
    assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_input_errors_carry_detail_code_and_the_fields(api, center):
    response = api.as_user(center).post("/api/v1/appeals/", {"channel": "fax"}, format="json")
    body = response.json()
    assert response.status_code == 400
    assert body["code"] == "invalid" and body["detail"] and "channel" in body and "content" in body


def test_not_authenticated_and_bad_page_sizes_use_the_same_shape(api, center):
    anonymous = api.get("/api/v1/units/")
    assert anonymous.status_code == 401 and set(anonymous.json()) == {"detail", "code"}
    for size in ("0", "501", "abc"):
        response = api.as_user(center).get("/api/v1/units/", {"page_size": size})
        assert response.status_code == 400 and "page_size" in response.json()


def test_a_filter_naming_an_unknown_object_matches_nothing(api, center):
    response = api.as_user(center).get("/api/v1/units/", {"parent": 999999})
    assert response.status_code == 200 and response.json()["results"] == []
