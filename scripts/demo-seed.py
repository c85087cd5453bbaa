#!/usr/bin/env python3
"""`make run`'s last step: when the shop has no products yet, create a demo
catalogue through the public API, so the recharge dialog has something to buy.

It registers the admin account (PAYCHAT_ADMIN_EMAILS' first address) with a
random password, verifies it from the sandbox mail sink, and keeps the
password in .stack/run-admin (mode 600) for the next run and for the person
at the keyboard. Sandbox/local runs only: production never runs this.
"""

import json
import os
import re
import secrets
import sys
import time
import urllib.error
import urllib.request

APP = os.environ.get("PAYCHAT_RUN_URL", "http://127.0.0.1:8080")
MAIL = os.environ.get("PAYCHAT_RUN_MAIL_URL", "http://127.0.0.1:8025")
ADMIN = os.environ.get("PAYCHAT_ADMIN_EMAILS", "admin@paychat.local").split(",")[0].strip()
CREDENTIALS = os.path.join(os.environ.get("PAYCHAT_STACK_DIR", ".stack"), "run-admin")

PRODUCTS = [
    {"name": "体验包 Starter", "description": "10 次对话 · 10 chats", "price": "1.00",
     "reward_use_times": 10, "stock": 500, "expires_days": 365},
    {"name": "标准包 Standard", "description": "60 次对话 · 60 chats", "price": "5.00",
     "reward_use_times": 60, "stock": 300, "expires_days": 365},
    {"name": "畅聊包 Plus", "description": "300 次对话 · 300 chats", "price": "20.00",
     "reward_use_times": 300, "stock": 200, "expires_days": 365},
    {"name": "尊享包 Pro", "description": "1000 次对话 · 1000 chats", "price": "58.00",
     "reward_use_times": 1000, "stock": 100, "expires_days": 365},
]


def call(method, url, body=None, token=None):
    """(status, parsed JSON or None); redirects are not followed."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", f"Bearer {token}")

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(req, timeout=30) as res:
            status, text = res.status, res.read().decode()
    except urllib.error.HTTPError as e:
        status, text = e.code, e.read().decode()
    try:
        return status, json.loads(text) if text else None
    except json.JSONDecodeError:
        return status, None


def say(line):
    print(f"==> {line}", flush=True)


def verification_code(email):
    for _ in range(50):
        status, messages = call("GET", f"{MAIL}/api/messages?to={urllib.request.quote(email)}&limit=5")
        for message in messages or [] if status == 200 else []:
            found = re.search(r"verify-email\?code=([A-Za-z0-9_\-]+)", message.get("text", ""))
            if found:
                return found.group(1)
        time.sleep(0.2)
    return None


def admin_password():
    if os.path.exists(CREDENTIALS):
        with open(CREDENTIALS, encoding="utf-8") as f:
            for line in f:
                if line.startswith("password="):
                    return line.split("=", 1)[1].strip()
    password = secrets.token_urlsafe(12)
    status, body = call("POST", f"{APP}/api/auth/register",
                        {"email": ADMIN, "password": password, "nickname": "admin"})
    if status != 201:
        code = (body or {}).get("error", {}).get("code", status)
        say(f"demo catalogue skipped: {ADMIN} is already registered ({code}); add products as admin")
        return None
    code = verification_code(ADMIN)
    if code is None or call("GET", f"{APP}/api/auth/verify-email?code={code}")[0] != 302:
        say("demo catalogue skipped: the admin's verification email did not arrive")
        return None
    os.makedirs(os.path.dirname(CREDENTIALS) or ".", exist_ok=True)
    fd = os.open(CREDENTIALS, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(f"# sandbox admin of `make run`\nemail={ADMIN}\npassword={password}\n")
    return password


def main():
    status, body = call("GET", f"{APP}/api/products")
    if status != 200:
        say(f"demo catalogue skipped: GET /api/products answered {status}")
        return 0
    if body.get("items"):
        say(f"catalogue has {len(body['items'])} products; no demo products added")
        return 0
    password = admin_password()
    if password is None:
        return 0
    status, session = call("POST", f"{APP}/api/auth/login", {"email": ADMIN, "password": password})
    if status != 200:
        say(f"demo catalogue skipped: the admin login answered {status} (see {CREDENTIALS})")
        return 0
    token = session["token"]
    for product in PRODUCTS:
        status, _ = call("POST", f"{APP}/api/admin/products", product, token)
        if status != 201:
            say(f"creating demo product {product['name']} answered {status}")
            return 1
    say(f"demo catalogue: {len(PRODUCTS)} products with their codes; admin {ADMIN}, password in {CREDENTIALS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
