"""Settings: per-purpose keys, the Rasa API secret, allowed origins, the demo flag, and the
endpoints.yml they render (the action server key only in the private generated file)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
import yaml

from bot.endpoints import ACTION_KEY_HEADER, render_endpoints, write_endpoints
from bot.settings import PROJECT_ROOT, KeyPurpose, load_settings


def settings_in(var_dir: Path, **env: str):
    return load_settings({"CRM_VAR_DIR": str(var_dir), "CRM_SECRET_KEY": "master", **env})


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_each_purpose_has_its_own_key_derived_from_the_master_secret(tmp_path) -> None:
    settings = settings_in(tmp_path)
    keys = {purpose: settings.key_for(purpose) for purpose in KeyPurpose}

    assert len(set(keys.values())) == len(KeyPurpose)
    assert settings.secret_key not in keys.values()
    assert keys == {purpose: settings_in(tmp_path).key_for(purpose) for purpose in KeyPurpose}
    other = settings_in(tmp_path, CRM_SECRET_KEY="another master")
    assert not set(keys.values()) & {other.key_for(purpose) for purpose in KeyPurpose}


def test_the_rasa_api_secret_is_random_private_and_kept(tmp_path) -> None:
    first = settings_in(tmp_path / "a")
    token = first.rasa_api_token
    token_file = tmp_path / "a" / "rasa_api_token"

    assert len(token) >= 48
    assert token_file.read_text() == token
    assert mode(token_file) == 0o600
    assert settings_in(tmp_path / "a").rasa_api_token == token, "created once"
    assert settings_in(tmp_path / "b").rasa_api_token != token, "not derived from the secret"
    assert token not in {first.secret_key, *(first.key_for(p) for p in KeyPurpose)}
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["rasa_api_token"]


def test_a_generated_master_secret_is_private_too(tmp_path) -> None:
    settings = load_settings({"CRM_VAR_DIR": str(tmp_path)})

    assert (tmp_path / "secret_key").read_text() == settings.secret_key
    assert mode(tmp_path / "secret_key") == 0o600
    assert load_settings({"CRM_VAR_DIR": str(tmp_path)}).secret_key == settings.secret_key


def test_allowed_origins_default_to_the_consoles_own(tmp_path) -> None:
    assert settings_in(tmp_path, CONSOLE_PORT="9000").allowed_origins == (
        "http://127.0.0.1:9000",
        "http://localhost:9000",
    )
    listed = settings_in(tmp_path, CRM_ALLOWED_ORIGINS=" https://bank.example/, http://a:81 ")
    assert listed.allowed_origins == ("https://bank.example", "http://a:81")


@pytest.mark.parametrize("origins", ["*", "bank.example", "https://bank.example/chat"])
def test_anything_but_an_origin_is_refused(tmp_path, origins: str) -> None:
    with pytest.raises(SystemExit, match="CRM_ALLOWED_ORIGINS"):
        settings_in(tmp_path, CRM_ALLOWED_ORIGINS=origins)


def test_the_demo_site_is_off_unless_asked_for(tmp_path) -> None:
    assert settings_in(tmp_path).demo_site is False
    assert settings_in(tmp_path, CRM_DEMO_SITE="0").demo_site is False
    assert settings_in(tmp_path, CRM_DEMO_SITE="1").demo_site is True
    with pytest.raises(SystemExit, match="CRM_DEMO_SITE"):
        settings_in(tmp_path, CRM_DEMO_SITE="maybe")


def test_rasa_sends_the_action_server_key(tmp_path) -> None:
    settings = settings_in(tmp_path)

    action_endpoint = render_endpoints(settings)["action_endpoint"]

    assert action_endpoint == {
        "url": f"http://127.0.0.1:{settings.action_port}/webhook",
        "headers": {ACTION_KEY_HEADER: settings.key_for(KeyPurpose.ACTION_SERVER)},
    }


def test_the_generated_endpoints_file_is_private(tmp_path) -> None:
    settings = settings_in(tmp_path)
    path = tmp_path / "endpoints.yml"
    path.write_text("an older, readable file")
    path.chmod(0o644)

    assert write_endpoints(settings, path) == path

    assert mode(path) == 0o600
    assert yaml.safe_load(path.read_text()) == render_endpoints(settings)


def test_the_committed_endpoints_file_is_the_default_rendering_without_the_key() -> None:
    committed = yaml.safe_load((PROJECT_ROOT / "endpoints.yml").read_text())
    rendered = render_endpoints(load_settings({"CRM_SECRET_KEY": "any"}))
    del rendered["action_endpoint"]["headers"]

    assert committed == rendered


def test_the_var_folder_is_private_even_with_a_given_master_secret(tmp_path) -> None:
    settings_in(tmp_path / "new")
    (tmp_path / "old").mkdir(mode=0o755)
    (tmp_path / "old").chmod(0o755)
    settings_in(tmp_path / "old")

    assert mode(tmp_path / "new") == 0o700
    assert mode(tmp_path / "old") == 0o700


def test_rasa_uses_every_core_only_when_redis_can_coordinate_its_processes(
    tmp_path, monkeypatch
) -> None:
    monkeypatch.setattr("os.cpu_count", lambda: 4)
    assert settings_in(tmp_path).rasa_workers == 1
    redis = "redis://127.0.0.1:6379/3"
    assert settings_in(tmp_path, CRM_REDIS_URL=redis).rasa_workers == 4
    assert settings_in(tmp_path, CRM_REDIS_URL=redis, CRM_RASA_WORKERS="1").rasa_workers == 1
    assert settings_in(tmp_path, CRM_RASA_WORKERS="1").rasa_workers == 1
    with pytest.raises(SystemExit, match="CRM_RASA_WORKERS=2 needs CRM_REDIS_URL"):
        settings_in(tmp_path, CRM_RASA_WORKERS="2")
    for wrong in ("0", "two", "-1"):
        with pytest.raises(SystemExit, match="CRM_RASA_WORKERS must be a positive whole number"):
            settings_in(tmp_path, CRM_REDIS_URL=redis, CRM_RASA_WORKERS=wrong)
