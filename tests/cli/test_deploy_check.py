import secrets
import subprocess
import sys


def test_production_settings_pass_the_deployment_checklist(cli_env, tmp_path):
    env = {
        **cli_env,
        "DJANGO_SETTINGS_MODULE": "powercis.settings",
        "POWERCIS_SECRET_KEY": secrets.token_urlsafe(48),
        "POWERCIS_DEBUG": "0",
        "POWERCIS_ALLOWED_HOSTS": "cis.example.cn",
        "POWERCIS_TLS": "1",
    }
    assert len(env["POWERCIS_SECRET_KEY"]) == 64
    done = subprocess.run(
        [sys.executable, "-m", "django", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout
