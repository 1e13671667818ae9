"""Write the development .env (`make` runs this once per checkout): fresh secrets, DEBUG on and
the SMS simulator on.

The file holds the keys that encrypt citizens' phones, so it is created readable by its owner
only (0600) whatever the umask, and an existing file is never overwritten (its keys encrypt the
phones already stored). Standard library only: it runs before the virtualenv exists.

    python3 scripts/write_env.py [PATH]   # PATH defaults to .env
"""

from __future__ import annotations

import base64
import os
import secrets
import sys


def development_env() -> str:
    lines = [
        "DJANGO_DEBUG=1",
        "DJANGO_SECRET_KEY=" + secrets.token_urlsafe(40),
        "PHONE_ENCRYPTION_KEYS=" + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "PHONE_HASH_KEY=" + secrets.token_hex(32),
        "SMS_SIMULATOR_ENABLED=1",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    path = argv[1] if len(argv) > 1 else ".env"
    try:
        # O_EXCL: never replace a file whose keys may already encrypt stored phones.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        print(f"{path} exists already; not overwritten", file=sys.stderr)
        return 1
    with os.fdopen(fd, "w") as handle:
        os.fchmod(handle.fileno(), 0o600)  # the mode of os.open is reduced by the umask
        handle.write(development_env())
    print(f"wrote {path} with development secrets (mode 0600)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
