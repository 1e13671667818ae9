"""The OpenAPI schema of the whole API: valid, documented without warnings, served locally."""

from django.core.management import call_command


def test_it_generates_a_valid_schema_without_warnings(tmp_path, db):
    target = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    text = target.read_text()
    for path in ("/api/v1/appeals/", "/api/v1/work-orders/", "/api/v1/units/", "/api/v1/auth/token/"):
        assert path in text


def test_it_serves_the_interactive_docs_from_its_own_static_files(client, center):
    client.force_login(center)
    html = client.get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/" in html
