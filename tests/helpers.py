"""Re-exports of conftest helpers for test modules (conftest itself is not importable by name)."""

from tests.conftest import UNAUTHENTICATED, ApiClient, forbidden, guessed_token, issue_token

__all__ = ["UNAUTHENTICATED", "ApiClient", "forbidden", "guessed_token", "issue_token"]
