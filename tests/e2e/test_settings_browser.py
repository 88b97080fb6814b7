"""Settings -> API Settings in headless Chromium against a real server on a throwaway database.

The admin logs in, generates a ``read`` token, copies it from the page, calls ``/api/v1/me`` with
it, sees that call in the token's activity view, switches to Arabic, revokes the token and sees
the next call refused with 401; then uses the tenant's Django admin. Every page runs under the
Content-Security-Policy and the browser reports no violation of it. Screenshots of each state go
to artifacts/screenshots/.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings

from tests.helpers import UNAUTHENTICATED
from tests.live_server import manage, throwaway_database

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Chromium already sends *.localhost to loopback; this makes it independent of the resolver.
    "--host-resolver-rules=MAP *.localhost 127.0.0.1",
]
PORTS = range(8101, 8110)
TENANT_SLUG = "e2e"
HOST = "e2e.localhost"
ADMIN_EMAIL = "admin@e2e.example"
ADMIN_PASSWORD = "e2e-admin-passphrase"
ROOT = Path(settings.BASE_DIR)
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
SERVER_LOG = ROOT / "artifacts" / "e2e-server.log"
STARTUP_SECONDS = 60
ACTIVITY_SECONDS = 10

if not Path(CHROMIUM).exists():
    pytest.skip(
        f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium); "
        "browsers are never downloaded",
        allow_module_level=True,
    )
from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402


@dataclass(frozen=True)
class Server:
    port: int

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"


def free_port() -> int:
    for port in PORTS:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    pytest.skip(f"no free port in {PORTS.start}-{PORTS.stop - 1}")


def poll(check: Callable[[], bool], seconds: float, what: str) -> None:
    """Wait for a real process (not a clock): ask again every 0.2 s until ``seconds`` pass."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds}s waiting for {what}")
        time.sleep(0.2)


def call_api(server: Server, path: str, token: str) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{server.port}{path}",
        headers={
            "Host": f"{HOST}:{server.port}",
            "Authorization": f"Bearer {token}",
            "Accept": "application/json",
            "User-Agent": "waqti-e2e/1.0",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - our server
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def is_healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    """A migrated throwaway database with one tenant and its admin, served by runserver."""
    port = free_port()
    process: subprocess.Popen[bytes] | None = None
    SERVER_LOG.parent.mkdir(parents=True, exist_ok=True)
    with throwaway_database(f"{settings.DATABASES['default']['NAME']}_e2e") as database_url:
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "DJANGO_DEBUG": "1",
            "PORT": str(port),
            "PYTHONUNBUFFERED": "1",
        }
        env.pop("WAQTI_TEST_DATABASE", None)
        try:
            manage(env, "migrate", "--noinput", "-v", "0")
            manage(
                env,
                "add_tenant",
                TENANT_SLUG,
                "--name",
                "E2E Trading",
                "--domain",
                HOST,
                "--plan",
                "professional",
            )
            manage(
                env,
                "create_tenant_admin",
                TENANT_SLUG,
                "--email",
                ADMIN_EMAIL,
                "--password",
                ADMIN_PASSWORD,
            )
            with SERVER_LOG.open("wb") as log:
                process = subprocess.Popen(
                    [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
                    cwd=ROOT,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            poll(
                lambda: process.poll() is None and is_healthy(port),
                STARTUP_SECONDS,
                f"the server on port {port} (log: {SERVER_LOG})",
            )
            yield Server(port=port)
        finally:
            if process is not None:
                process.terminate()
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=5)


@pytest.fixture
def console() -> list[str]:
    """The browser console's messages ("<type>: <text>"); CSP violations are reported there."""
    return []


def csp_violations(console: list[str]) -> list[str]:
    return [message for message in console if "Content Security Policy" in message]


@pytest.fixture
def page(server: Server, console: list[str]) -> Iterator[Page]:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            context = browser.new_context(
                base_url=server.base_url, locale="en-US", viewport={"width": 1280, "height": 860}
            )
            context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.base_url)
            new_page = context.new_page()
            new_page.on(
                "console", lambda message: console.append(f"{message.type}: {message.text}")
            )
            yield new_page
        finally:
            browser.close()


def shot(page: Page, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def log_in_as_admin(page: Page) -> None:
    """Fill in the Settings login form (the page already open) as the tenant admin."""
    page.get_by_label("Email").fill(ADMIN_EMAIL)
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/settings/api/$"))


def test_admin_generates_uses_audits_and_revokes_a_token(
    server: Server, page: Page, console: list[str]
):
    # Log in (the tenant root leads to the login page).
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/settings/login/\?next=/settings/api/$"))
    expect(page.locator("html")).to_have_attribute("dir", "ltr")
    shot(page, "01-login-en")
    log_in_as_admin(page)
    expect(page.get_by_role("heading", name="API Settings")).to_be_visible()
    shot(page, "02-token-list-empty-en")

    # Generate a read token with the keyboard: name, Tab to the first checkbox, Space.
    page.get_by_role("link", name="Generate New Token").click()
    name_field = page.get_by_label("Token name")
    name_field.focus()
    page.keyboard.type("E2E Reporting")
    page.keyboard.press("Tab")
    read_box = page.get_by_role("checkbox", name=re.compile("Read-only access to all resources"))
    expect(read_box).to_be_focused()
    page.keyboard.press("Space")
    expect(read_box).to_be_checked()
    shot(page, "03-generate-form-en")
    page.get_by_role("button", name="Create").click()

    # Shown once, read-only, with a Copy button and the warning.
    field = page.get_by_label("Your new API token")
    expect(field).to_have_attribute("readonly", "")
    token = field.input_value()
    assert re.fullmatch(r"\d+\|[A-Za-z0-9]{40}", token)
    expect(page.get_by_text("It will not be shown again")).to_be_visible()
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_text("Copied to the clipboard.")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == token
    shot(page, "04-token-shown-once-en")
    page.reload()
    expect(page.get_by_text("cannot be shown again")).to_be_visible()
    assert token.split("|")[1] not in page.content()
    page.go_back()
    assert token.split("|")[1] not in page.content()

    # Use it like an ERP client would.
    status, body = call_api(server, "/api/v1/me", token)
    assert status == 200, body
    assert body["data"]["token_name"] == "E2E Reporting"
    assert body["data"]["abilities"] == ["read"]

    # The call shows up in the token's activity view (the log is written about once a second).
    page.goto("/settings/api/")
    page.get_by_role("link", name="Activity of E2E Reporting").click()

    def call_is_listed() -> bool:
        page.reload()
        return page.locator("#requests").get_by_text("GET /api/v1/me").count() > 0

    poll(call_is_listed, ACTIVITY_SECONDS, "the /api/v1/me call in the activity view")
    expect(page.locator("#requests")).to_contain_text("200")
    expect(page.locator("#events")).to_contain_text(f"user:{ADMIN_EMAIL}")
    shot(page, "05-activity-en")

    # Switch to Arabic: right-to-left, translated.
    page.get_by_label("Language").select_option("ar")
    page.get_by_role("button", name="Switch").click()
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator("html")).to_have_attribute("lang", "ar")
    expect(page.get_by_role("heading", name="أحدث طلبات واجهة البرمجة")).to_be_visible()
    shot(page, "06-activity-ar")
    page.goto("/settings/api/")
    expect(page.get_by_role("link", name="إنشاء رمز جديد")).to_be_visible()
    shot(page, "07-token-list-ar")

    # Revoke, with the confirmation step, in Arabic.
    page.get_by_role("link", name="إلغاء E2E Reporting").click()
    expect(page.get_by_role("heading", name="إلغاء «E2E Reporting»؟")).to_be_visible()
    shot(page, "08-revoke-confirm-ar")
    page.get_by_role("button", name="إلغاء", exact=True).click()
    expect(page.get_by_text("تم إلغاء الرمز «E2E Reporting».")).to_be_visible()
    expect(page.locator(f"#token-{token.split('|')[0]}")).to_contain_text("ملغى")
    shot(page, "09-token-revoked-ar")

    status, body = call_api(server, "/api/v1/me", token)
    assert status == 401
    assert body == UNAUTHENTICATED

    # The generate form in Arabic, for the record.
    page.goto("/settings/api/tokens/new/")
    shot(page, "10-generate-form-ar")

    # Styles, the Copy button and every form above ran under the policy without a violation.
    assert csp_violations(console) == []
    assert_the_policy_is_enforced(page, console)


def assert_the_policy_is_enforced(page: Page, console: list[str]) -> None:
    """An inline script without the nonce is refused, and the refusal reaches the console (so an
    empty list of violations above means something)."""
    page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.injected = true'; document.body.appendChild(s); }"
    )
    poll(lambda: bool(csp_violations(console)), 5, "the CSP violation report")
    assert page.evaluate("window.injected === undefined")


def test_tenant_admin_uses_its_own_admin_site_under_the_policy(
    server: Server, page: Page, console: list[str]
):
    page.goto("/admin/")
    expect(page).to_have_url(re.compile(r"/admin/login/\?next=/admin/$"))
    page.get_by_label("Username").fill(ADMIN_EMAIL)
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_title("Models in the API tokens application")).to_be_visible()
    expect(page.get_by_title("Models in the Procurement application")).to_be_visible()
    assert page.get_by_text("Tenancy").count() == 0
    assert page.get_by_text("Authentication and Authorization").count() == 0
    shot(page, "11-tenant-admin-index")

    # Create a token through the admin (JS widgets, forms and messages under the policy).
    page.goto("/admin/tokens/apitoken/add/")
    page.get_by_label("Name").fill("Admin-made")
    page.get_by_role("checkbox", name="Read-only access to all resources").check()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Copy the token now")).to_be_visible()
    page.goto("/admin/tokens/apitoken/")
    expect(page.get_by_role("link", name="Admin-made")).to_be_visible()
    shot(page, "12-tenant-admin-tokens")
    page.goto("/admin/procurement/vendor/add/")
    expect(page.get_by_role("textbox", name="Name:", exact=True)).to_be_visible()

    # The registry is not part of this site.
    response = page.goto("/admin/tenancy/tenant/")
    assert response is not None and response.status == 404
    assert csp_violations(console) == []


def test_admin_limits_a_token_to_addresses_and_edits_the_list(
    server: Server, page: Page, console: list[str]
):
    page.goto("/settings/login/")
    log_in_as_admin(page)

    # Generate a token usable only from a documentation range; a typo is explained first.
    page.get_by_role("link", name="Generate New Token").click()
    page.get_by_label("Token name").fill("E2E Allowlisted")
    page.get_by_role("checkbox", name=re.compile("Read-only access")).check()
    allowed = page.get_by_label("Allowed IP addresses (optional)")
    allowed.fill("192.0.2.0/24\n10.0.0.5/24")
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_role("alert")).to_be_visible()
    expect(
        page.get_by_text(
            "Entry 2: 10.0.0.5/24 has host bits set: write 10.0.0.0/24 for the network "
            "or 10.0.0.5/32 for the one address."
        )
    ).to_be_visible()
    shot(page, "11-allowlist-error-en")
    allowed.fill("192.0.2.0/24")
    page.get_by_role("checkbox", name=re.compile("Read-only access")).check()
    page.get_by_role("button", name="Create").click()
    token = page.get_by_label("Your new API token").input_value()

    # This test's requests come from 127.0.0.1: refused, naming the address.
    status, body = call_api(server, "/api/v1/me", token)
    assert status == 403
    assert body == {
        "message": "This action is unauthorized.",
        "errors": {"ip": ["Token cannot be used from 127.0.0.1"]},
    }

    # The token's page shows the list; Edit adds this machine's address.
    page.goto("/settings/api/")
    page.get_by_role("link", name="Activity of E2E Allowlisted").click()
    expect(page.locator("#allowed-ips")).to_contain_text("192.0.2.0/24")
    page.get_by_role("link", name="Edit", exact=True).click()
    field = page.get_by_label("Allowed IP addresses (optional)")
    expect(field).to_have_value("192.0.2.0/24")
    field.fill("192.0.2.0/24\n127.0.0.1")
    shot(page, "12-allowlist-edit-en")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("The token “E2E Allowlisted” was saved.")).to_be_visible()
    expect(page.locator("#allowed-ips")).to_contain_text("127.0.0.1/32")
    expect(page.locator("#events")).to_contain_text("Updated")
    expect(page.locator("#events")).to_contain_text("192.0.2.0/24 → 192.0.2.0/24, 127.0.0.1/32")
    shot(page, "13-allowlist-updated-en")

    # Effective on the very next request.
    status, body = call_api(server, "/api/v1/me", token)
    assert status == 200, body
    assert csp_violations(console) == []


def test_admin_sets_the_token_policy_and_tokens_follow_it(
    server: Server, page: Page, console: list[str]
):
    page.goto("/settings/login/")
    log_in_as_admin(page)

    # A token holding "delete", made before the policy, works with it.
    page.get_by_role("link", name="Generate New Token").click()
    page.get_by_label("Token name").fill("E2E Cleaner")
    page.get_by_role("checkbox", name=re.compile("Read-only access")).check()
    page.get_by_role("checkbox", name=re.compile("Delete resources")).check()
    page.get_by_role("button", name="Create").click()
    token = page.get_by_label("Your new API token").input_value()
    status, body = call_api(server, "/api/v1/me", token)
    assert status == 200 and body["data"]["abilities"] == ["read", "delete"]

    # The policy page: defaults, then a bad value refused on its field, then saved.
    page.goto("/settings/api/")
    page.get_by_role("link", name="Token policy").click()
    expect(page.get_by_role("heading", name="Token policy")).to_be_visible()
    expect(page.get_by_label("Rotation due after (days)")).to_have_value("90")
    expect(page.get_by_text("the defaults apply")).to_be_visible()
    page.get_by_label("Rotation due after (days)").fill("0")
    page.get_by_role("button", name="Save policy").click()
    expect(page.get_by_text("Ensure this value is greater than or equal to 1.")).to_be_visible()
    page.get_by_label("Maximum lifetime (days)").fill("30")
    page.get_by_label("Rotation due after (days)").fill("60")
    page.get_by_role("checkbox", name=re.compile("Delete resources")).uncheck()
    shot(page, "14-token-policy-form-en")
    page.get_by_role("button", name="Save policy").click()
    expect(page.get_by_text("The token policy was saved.")).to_be_visible()
    changes = page.locator("#policy-changes")
    expect(changes).to_contain_text(f"user:{ADMIN_EMAIL}")
    expect(changes).to_contain_text("read, write, approve, admin")
    shot(page, "15-token-policy-saved-en")

    # Next request: the withdrawn ability is gone; the list shows it withheld.
    status, body = call_api(server, "/api/v1/me", token)
    assert status == 200 and body["data"]["abilities"] == ["read"]
    page.goto("/settings/api/")
    row = page.locator(f"#token-{token.split('|')[0]}")
    expect(row.locator("del.withheld")).to_have_text("delete")

    # Generating a token without an expiry is refused on the form, naming the limit.
    page.get_by_role("link", name="Generate New Token").click()
    page.get_by_label("Token name").fill("E2E Forever")
    page.get_by_role("checkbox", name=re.compile("Read-only access")).check()
    page.get_by_role("button", name="Create").click()
    expect(
        page.get_by_text("The token policy requires an expiry at most 30 days from now.")
    ).to_be_visible()
    shot(page, "16-generate-refused-by-policy-en")

    # In Arabic too.
    page.goto("/settings/api/policy/")
    page.get_by_label("Language").select_option("ar")
    page.get_by_role("button", name="Switch").click()
    expect(page.get_by_role("heading", name="سياسة رموز الوصول")).to_be_visible()
    shot(page, "17-token-policy-ar")
    assert csp_violations(console) == []


def test_admin_adds_a_webhook_sees_its_secret_once_and_removes_it(
    server: Server, page: Page, console: list[str]
):
    page.goto("/")
    log_in_as_admin(page)
    page.get_by_role("link", name="Webhooks").click()
    expect(page.get_by_text("No webhooks yet.")).to_be_visible()
    page.get_by_role("link", name="Add webhook").click()
    page.get_by_label("Name").fill("SAP approvals")
    page.get_by_label("Receiver URL").fill("https://erp.example.com/waqti")
    page.get_by_role("checkbox", name="purchase_order.approved").check()
    shot(page, "20-webhook-form-en")
    page.get_by_role("button", name="Add webhook").click()

    secret_field = page.get_by_label("Signing secret")
    expect(secret_field).to_have_attribute("readonly", "")
    secret = secret_field.input_value()
    assert re.fullmatch(r"whsec_[A-Za-z0-9+/]{43}=", secret)
    expect(page.get_by_text("It will not be shown again")).to_be_visible()
    shot(page, "21-webhook-secret-shown-once-en")
    page.reload()
    expect(page.get_by_text("already shown once")).to_be_visible()
    assert secret not in page.content()

    page.get_by_role("link", name="Back to Webhooks").click()
    row = page.locator("#webhooks tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("SAP approvals")
    expect(row).to_contain_text("purchase_order.approved")
    row.get_by_role("button", name="Disable").click()
    expect(page.get_by_text("The webhook “SAP approvals” was disabled.")).to_be_visible()
    expect(page.locator("#webhooks tbody tr")).to_contain_text("Disabled")
    shot(page, "22-webhook-disabled-en")
    page.locator("#webhooks tbody tr").get_by_role("link", name="Delete").click()
    page.get_by_role("button", name="Delete").click()
    expect(page.get_by_text("The webhook “SAP approvals” was deleted.")).to_be_visible()
    expect(page.get_by_text("No webhooks yet.")).to_be_visible()
    assert csp_violations(console) == []
